import { describe, expect, it } from "vitest";
import type { JobSpec } from "../../functions/jobs";
import { rateMs, runDeployJobs, startSchedules } from "./schedules";

const job = (id: string, trigger: JobSpec["trigger"]) => ({
  id,
  handler: `test/${id}`,
  summary: id,
  trigger,
  permissions: [],
  timeoutSeconds: 5,
});

describe("local schedules", () => {
  it("reads EventBridge rate expressions", () => {
    expect(rateMs("rate(5 minutes)")).toBe(300_000);
    expect(rateMs("rate(1 minute)")).toBe(60_000);
    expect(rateMs("rate(2 hours)")).toBe(7_200_000);
    expect(rateMs("cron(0 12 * * ? *)")).toBeUndefined();
  });

  it("runs each scheduled job at its rate, one run at a time, and never a started job", async () => {
    const runs: string[] = [];
    let inFlight = 0;
    let most = 0;
    const schedules = startSchedules({
      jobs: [job("sweep", { schedule: "rate(5 minutes)" }), job("onDemand", { started: true })],
      functionNamePrefix: "coachvault-test-",
      periodMs: () => 20,
      loadHandler: async (spec) => async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        runs.push(spec.id);
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight--;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    schedules.close();
    expect(runs.length).toBeGreaterThan(1);
    expect(new Set(runs)).toEqual(new Set(["sweep"]));
    expect(most).toBe(1);
  });
});

describe("local deploy runs", () => {
  it("run each job marked runOnDeploy once, before anything serves, and a failed run stops the start", async () => {
    const runs: string[] = [];
    const jobs = [
      { ...job("keys", { schedule: "rate(5 minutes)" }), runOnDeploy: true as const },
      job("sweep", { schedule: "rate(5 minutes)" }),
    ];
    await runDeployJobs({
      jobs,
      functionNamePrefix: "coachvault-test-",
      loadHandler: async (spec) => async () => {
        runs.push(spec.id);
      },
    });
    expect(runs).toEqual(["keys"]);
    await expect(
      runDeployJobs({
        jobs,
        functionNamePrefix: "coachvault-test-",
        loadHandler: async () => async () => {
          throw new Error("JWKS unreachable");
        },
      }),
    ).rejects.toThrow("JWKS unreachable");
  });
});
