import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePorts, PORT_VARIABLES, type Ports, readEndpoints, useLocalStack } from "../../infra/local/stack";
import { putOrgSettings, SUITE_ORGS, SUITE_SETTINGS, TEST_STACK_SETTINGS_MAX_AGE_SECONDS } from "./settings";
import { stackLogSummary } from "./stack-log-summary";

/**
 * Starts one local stack for the whole test run — the same `infra/local/start.ts` that `npm start`
 * runs, on free ports in a fresh directory — and stops it afterwards. Every line it logs is kept in
 * `api.log` beside the stack directory, which the PHI-leak test reads at the end.
 */
let child: ChildProcess | undefined;
let stackLog: string | undefined;

export async function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), "coachvault-test-"));
  const dir = join(root, "stack");
  const logFile = join(root, "api.log");
  const env = {
    ...process.env,
    ...Object.fromEntries(
      Object.entries(await freePorts()).map(([service, port]) => [
        PORT_VARIABLES[service as keyof Ports],
        String(port),
      ]),
    ),
    LOG_LEVEL: "DEBUG",
    // Tests run the scheduled jobs themselves, when they need them (a checkpoint every 5 minutes in the
    // background would move the checkpoint numbers the audit tests count).
    SCHEDULED_JOBS: "off",
    ALLOWED_ORIGINS: "https://app.test.example",
    // A settings change (the limits tests make some) applies within a second.
    SETTINGS_MAX_AGE_SECONDS: String(TEST_STACK_SETTINGS_MAX_AGE_SECONDS),
  };
  stackLog = logFile;
  const log = createWriteStream(logFile);
  const started = spawn(
    process.execPath,
    ["--import", "tsx", "infra/local/start.ts", "--fresh", "--dir", dir],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child = started;
  started.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("local stack did not start within 120 s")), 120_000);
    let buffered = "";
    started.stdout?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      buffered += chunk.toString();
      if (buffered.includes("CoachVault local API ready at")) {
        clearTimeout(timer);
        resolve();
      }
    });
    started.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited with code ${code}; see ${logFile}`));
    });
  });
  useLocalStack(readEndpoints(dir));
  for (const org of SUITE_ORGS) await putOrgSettings(org, SUITE_SETTINGS);
  project.provide("stackDir", dir);
  project.provide("stackLogFile", logFile);
}

export async function teardown() {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child?.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
  const summary = stackLog ? stackLogSummary(stackLog) : [];
  if (summary.length > 0)
    process.stderr.write(`The local stack's 503s and errors in this run:\n${summary.join("\n")}\n`);
}

declare module "vitest" {
  export interface ProvidedContext {
    stackDir: string;
    stackLogFile: string;
  }
}
