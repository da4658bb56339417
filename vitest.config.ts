import { defineConfig } from "vitest/config";
import LastFileLastSequencer from "./test/support/sequencer";

/**
 * Three projects: `unit` (pure, no services), `infra` (CDK synth with the cdk-nag packs) and `stack`
 * (integration, end-to-end and security suites against one local stack started for the whole run).
 */
export default defineConfig({
  test: {
    sequence: { sequencer: LastFileLastSequencer },
    projects: [
      {
        test: {
          name: "unit",
          include: ["functions/**/*.test.ts", "shared/**/*.test.ts", "infra/local/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "infra",
          include: ["infra/cloud/**/*.test.ts", "test/infra/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "stack",
          include: [
            "test/integration/**/*.test.ts",
            "test/e2e/**/*.test.ts",
            "test/security/**/*.test.ts",
            "test/reliability/**/*.test.ts",
          ],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One stack, many files: keep them off each other's toes (and the 2-core machine) by running serially.
          fileParallelism: false,
        },
      },
    ],
  },
});
