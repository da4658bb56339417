import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import middy from "@middy/core";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
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

/** The one error policy: a typed error logged by code (a retryable one as a warning), anything else as unexpected. */
function logFailure(jobId: string, error: unknown, what = "job failed") {
  if (error instanceof AppError) {
    const log = error.kind === "unavailable" ? logger.warn : logger.error;
    log.call(logger, what, { job: jobId, code: error.code, error });
  } else {
    logger.error(`${what} unexpectedly`, { job: jobId, error: error ?? { name: "unknown" } });
  }
}

/**
 * A CloudFormation custom resource request: how the CDK app runs a job marked `runOnDeploy` during every
 * deploy that creates or changes it (`infra/cloud/jobs.ts`), with the job's own function as the service
 * token, so no separate provider function is needed.
 */
export type DeployRequest = {
  RequestType: "Create" | "Update" | "Delete";
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
};

/**
 * Whether a URL is one CloudFormation gives a custom resource to answer on: HTTPS into its response bucket
 * (`cloudformation-custom-resource-response-<region>`, virtual-hosted or path-style) on S3. Anyone allowed
 * to invoke a job could otherwise make it send a request wherever they like (and the token-keys job runs
 * outside the VPC).
 */
export function isCloudFormationResponseUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  const bucket = /^cloudformation-custom-resource-response-[a-z0-9]+$/;
  const s3 = /^s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/;
  const [host, ...rest] = url.hostname.split(".");
  const virtualHosted = bucket.test(host ?? "") && s3.test(rest.join("."));
  const pathStyle = s3.test(url.hostname) && bucket.test(url.pathname.split("/")[1] ?? "");
  return url.protocol === "https:" && url.port === "" && url.username === "" && (virtualHosted || pathStyle);
}

export function isDeployRequest(event: unknown): event is DeployRequest {
  if (typeof event !== "object" || event === null) return false;
  const request = event as Record<string, unknown>;
  return (
    ["Create", "Update", "Delete"].includes(request.RequestType as string) &&
    typeof request.ResponseURL === "string" &&
    isCloudFormationResponseUrl(request.ResponseURL) &&
    ["StackId", "RequestId", "LogicalResourceId"].every((key) => typeof request[key] === "string")
  );
}

/**
 * Runs the job for a deploy (not on Delete: removing the resource must never fail a stack) and answers
 * CloudFormation: SUCCESS, or FAILED naming only the error code (the log has the rest), which fails the
 * deploy, so a stack never completes without what the job provides. An answer that cannot be sent throws,
 * so Lambda retries the invocation.
 */
async function runForDeploy<E, R>(
  jobId: string,
  request: DeployRequest,
  job: JobInvocation,
  run: JobRun<E, R>,
): Promise<void> {
  let failure: string | undefined;
  if (request.RequestType !== "Delete") {
    try {
      await run(request as E, job);
    } catch (error) {
      logFailure(jobId, error, "job failed on deploy");
      failure = `${jobId} failed (${error instanceof AppError ? error.code : "unexpected"}); see its log`;
    }
  }
  const answer = await fetch(request.ResponseURL, {
    method: "PUT",
    headers: { "content-type": "" },
    body: JSON.stringify({
      Status: failure ? "FAILED" : "SUCCESS",
      ...(failure && { Reason: failure }),
      PhysicalResourceId: request.PhysicalResourceId ?? `${jobId}-on-deploy`,
      StackId: request.StackId,
      RequestId: request.RequestId,
      LogicalResourceId: request.LogicalResourceId,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!answer.ok) throw new Error(`CloudFormation refused the answer (${answer.status})`);
}

/**
 * The job's Lambda handler. `runOnDeploy` (the manifest's flag of the same name) makes it also answer a
 * CloudFormation deploy request; any other job runs such an event like any other.
 */
export function createJob<E, R>(jobId: string, run: JobRun<E, R>, options: { runOnDeploy?: boolean } = {}) {
  return middy<E, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ onError: ({ error }) => logFailure(jobId, error) })
    .handler(async (event, context) => {
      const job = invocationFor(jobId, context);
      if (!options.runOnDeploy || !isDeployRequest(event)) return run(event, job);
      await runForDeploy(jobId, event, job, run);
      // CloudFormation reads the answer sent to ResponseURL, never the invocation's result.
      return undefined as R;
    });
}

/**
 * What a stream job does with one batch: each record in order (a record that throws is reported as
 * failed, and the stream delivers it and those after it again), then `finish` once the batch has been
 * gone through (a `finish` that throws fails the whole batch).
 */
export type StreamBatch = {
  record: (record: DynamoDBRecord) => Promise<void>;
  finish?: () => Promise<void>;
};

/**
 * A batch of stream records through a job's batch handler, records one after another with partial batch
 * failures (`@aws-lambda-powertools/batch`): the inner function of `createStreamHandler`, which local
 * pollers and tests call directly.
 */
export async function processStream(
  jobId: string,
  event: DynamoDBStreamEvent,
  job: JobInvocation,
  startBatch: (job: JobInvocation) => StreamBatch,
): Promise<DynamoDBBatchResponse> {
  const batch = startBatch(job);
  const handle = async (record: DynamoDBRecord) => {
    try {
      await batch.record(record);
    } catch (error) {
      logFailure(jobId, error, "stream record failed");
      throw error;
    }
  };
  // A processor per batch: it keeps the batch's state, and the local poller may run batches side by side.
  const response = await processPartialResponse(
    event,
    handle,
    new BatchProcessor(EventType.DynamoDBStreams),
    { processInParallel: false },
  );
  await batch.finish?.();
  return response;
}

/** `createJob` for a stream trigger: the Lambda handler an event source mapping invokes with a batch. */
export function createStreamHandler(jobId: string, startBatch: (job: JobInvocation) => StreamBatch) {
  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ onError: ({ error }) => logFailure(jobId, error) })
    .handler((event, context) => processStream(jobId, event, invocationFor(jobId, context), startBatch));
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
