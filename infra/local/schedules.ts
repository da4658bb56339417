import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import type { JobSpec } from "../../functions/jobs";
import { logger } from "../../shared/log";
import { lambdaContext } from "./lambda-runtime";

/**
 * What EventBridge does for the scheduled jobs in the cloud, done locally: each job of the manifest with a
 * `rate(…)` schedule runs at that rate, one run at a time (as its reserved concurrency of 1 allows), its
 * failures logged (the job's own pipeline logs why). `cron(…)` schedules are not run locally.
 */
type Job = JobSpec & { id: string };
type JobHandler = (event: unknown, context: Context) => Promise<unknown>;

const UNITS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** The period of an EventBridge `rate(n unit)` expression in milliseconds, or undefined for anything else. */
export function rateMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!match) return undefined;
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}

export type ScheduleOptions = {
  jobs: readonly Job[];
  functionNamePrefix: string;
  loadHandler: (job: Job) => Promise<JobHandler>;
  /** The period to run a job at (its schedule's by default; tests shorten it). */
  periodMs?: (job: Job) => number | undefined;
};

/**
 * What a deploy does for the jobs marked `runOnDeploy` (a CloudFormation custom resource in the cloud):
 * each runs once, before the local stack serves; a run that fails stops the start, as it fails a deploy.
 */
export async function runDeployJobs(options: Omit<ScheduleOptions, "periodMs">): Promise<void> {
  for (const job of options.jobs.filter((candidate) => candidate.runOnDeploy)) {
    const handler = await options.loadHandler(job);
    const context = lambdaContext(
      `${options.functionNamePrefix}${job.id}`,
      randomUUID(),
      job.timeoutSeconds * 1000,
    );
    await handler({ source: "local.deploy" }, context);
  }
}

export function startSchedules(options: ScheduleOptions): { close: () => void } {
  const timers: NodeJS.Timeout[] = [];
  for (const job of options.jobs) {
    if (!("schedule" in job.trigger)) continue;
    const period = options.periodMs?.(job) ?? rateMs(job.trigger.schedule);
    if (period === undefined) continue;
    let running = false;
    const tick = async () => {
      if (running) return;
      running = true;
      try {
        const handler = await options.loadHandler(job);
        const context = lambdaContext(
          `${options.functionNamePrefix}${job.id}`,
          randomUUID(),
          job.timeoutSeconds * 1000,
        );
        await handler({ source: "local.schedule", "detail-type": "Scheduled Event" }, context);
      } catch {
        logger.warn("local schedule: a run failed", { job: job.id });
      } finally {
        running = false;
      }
    };
    timers.push(setInterval(() => void tick(), period));
  }
  return { close: () => timers.forEach(clearInterval) };
}
