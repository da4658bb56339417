import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { jobMeta, type RequestMeta } from "../audit/build";
import { aws } from "../aws";
import { getConfig } from "../config";
import { AppError } from "../errors";
import { logger } from "../log";

/**
 * The jobs runner: what `createHandler` is to routes, `createJob` is to functions that run on a schedule
 * or are started by another function. Each job has one inner function, `run(event, job)`, which local
 * commands and tests call directly; `handler` is that function behind a Middy pipeline with the Lambda
 * context in every log line and one error policy: a typed error is logged by code (a retryable one as a
 * warning), anything else as unexpected, and both are rethrown so Lambda records the failure, retries
 * an asynchronous start and the function's error alarm fires.
 */
export type JobInvocation = {
  /** The service identity the job acts (and is audited) as: `job:<id>`. */
  service: string;
  meta: RequestMeta;
  /** Milliseconds left before the function times out: a job that pages stops and resumes in time. */
  remainingMs: () => number;
};

export type JobRun<E, R> = (event: E, job: JobInvocation) => Promise<R>;

export const serviceName = (jobId: string) => `job:${jobId}`;

export function invocationFor(
  jobId: string,
  context: Pick<Context, "awsRequestId" | "getRemainingTimeInMillis">,
) {
  const service = serviceName(jobId);
  return {
    service,
    meta: jobMeta(context.awsRequestId, service),
    remainingMs: () => context.getRemainingTimeInMillis(),
  } satisfies JobInvocation;
}

export function createJob<E, R>(jobId: string, run: JobRun<E, R>) {
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      onError: ({ error }) => {
        if (error instanceof AppError) {
          const log = error.kind === "unavailable" ? logger.warn : logger.error;
          log.call(logger, "job failed", { job: jobId, code: error.code, error });
        } else {
          logger.error("job failed unexpectedly", { job: jobId, error: error ?? { name: "unknown" } });
        }
      },
    })
    .handler((event, context) => run(event, invocationFor(jobId, context)));
}

/** A job's function name: `FUNCTION_NAME_PREFIX` + its id in `functions/jobs.ts`. */
export const jobFunctionName = (jobId: string) => `${getConfig().FUNCTION_NAME_PREFIX}${jobId}`;

/**
 * Starts a job asynchronously (Lambda `Event` invocation): Lambda queues it, retries a failed run twice,
 * and the caller returns at once. The caller's function needs the `jobs:start:<id>` permission.
 */
export async function startJob(jobId: string, payload: Record<string, unknown>): Promise<void> {
  await aws("lambda").send(
    new InvokeCommand({
      FunctionName: jobFunctionName(jobId),
      InvocationType: "Event",
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
}
