import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Context } from "aws-lambda";
import type { JobSpec } from "../../functions/jobs";
import { logger } from "../../shared/log";
import { lambdaContext } from "./lambda-runtime";

/**
 * Lambda's Invoke API (REST-JSON, `POST /2015-03-31/functions/<name>/invocations`) for the jobs that
 * functions start by name, run in this process the way Lambda runs them: an `Event` invocation is
 * answered 202 at once and run afterwards, retried twice on failure (Lambda waits minutes; here seconds);
 * a `RequestResponse` invocation answers with the job's result. Unknown functions are a 404 the SDK
 * turns into ResourceNotFoundException, as the service's are.
 */
type Job = JobSpec & { id: string };
type JobHandler = (event: unknown, context: Context) => Promise<unknown>;

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const RETRY_DELAYS_MS = [1_000, 2_000];
const MAX_PAYLOAD_BYTES = 256 * 1024;

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

const fail = (res: ServerResponse, status: number, type: string, message: string) =>
  reply(res, status, { Type: "User", message }, { "x-amzn-ErrorType": type });

function readPayload(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_PAYLOAD_BYTES ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export type LocalLambdaOptions = {
  port: number;
  /** Function names are `<prefix><job id>`. */
  functionNamePrefix: string;
  jobs: readonly Job[];
  loadHandler: (job: Job) => Promise<JobHandler>;
};

export async function startLocalLambda(options: LocalLambdaOptions): Promise<Server> {
  const started = new Map(
    options.jobs
      .filter((job) => "started" in job.trigger)
      .map((job) => [`${options.functionNamePrefix}${job.id}`, job]),
  );
  const handlers = new Map<string, Promise<JobHandler>>();
  const handlerOf = (job: Job) => {
    if (!handlers.has(job.id)) handlers.set(job.id, options.loadHandler(job));
    return handlers.get(job.id) as Promise<JobHandler>;
  };
  const invoke = async (job: Job, event: unknown) => {
    const context = lambdaContext(
      `${options.functionNamePrefix}${job.id}`,
      randomUUID(),
      job.timeoutSeconds * 1000,
    );
    return (await handlerOf(job))(event, context);
  };
  const runAsync = async (job: Job, event: unknown) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await invoke(job, event);
        return;
      } catch {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          logger.error("local lambda: asynchronous invocation failed after retries", { job: job.id });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };

  const server = createServer((req, res) => {
    const serve = async () => {
      const name = INVOKE_PATH.exec(new URL(req.url ?? "/", "http://localhost").pathname)?.[1];
      if (req.method !== "POST" || !name)
        return fail(res, 404, "UnknownOperationException", "unknown operation");
      const job = started.get(decodeURIComponent(name));
      if (!job) return fail(res, 404, "ResourceNotFoundException", "Function not found");
      const payload = await readPayload(req);
      if (!payload)
        return fail(res, 413, "RequestTooLargeException", "Request must be smaller than 262144 bytes");
      let event: unknown;
      try {
        event = payload.length > 0 ? JSON.parse(payload.toString("utf8")) : {};
      } catch {
        return fail(res, 400, "InvalidRequestContentException", "Could not parse request body into json");
      }
      const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
      if (type === "DryRun") return reply(res, 204, undefined);
      if (type === "Event") {
        reply(res, 202, undefined);
        void runAsync(job, event);
        return;
      }
      try {
        return reply(res, 200, (await invoke(job, event)) ?? null, { "X-Amz-Executed-Version": "$LATEST" });
      } catch (error) {
        const errorType = error instanceof Error ? error.name : "Error";
        return reply(
          res,
          200,
          { errorType, errorMessage: "job failed" },
          { "X-Amz-Function-Error": "Unhandled" },
        );
      }
    };
    serve().catch(() => {
      if (!res.headersSent) fail(res, 500, "ServiceException", "internal failure");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", resolve);
  });
  return server;
}
