import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { ServiceUnavailableError } from "../errors";
import { createJob } from ".";

const context = {
  awsRequestId: "req-7",
  functionName: "coachvault-test-sweep",
  getRemainingTimeInMillis: () => 42_000,
} as unknown as Context;

describe("createJob", () => {
  it("runs the inner function as the job's service identity, with the invocation's metadata", async () => {
    const handler = createJob("sweep", async (event: { n: number }, job) => ({
      event,
      job: { ...job, left: job.remainingMs() },
    }));
    const out = await handler({ n: 1 }, context);
    expect(out.event).toEqual({ n: 1 });
    expect(out.job).toMatchObject({
      service: "job:sweep",
      meta: { requestId: "req-7", sourceIp: "internal", userAgent: "job:sweep" },
      left: 42_000,
    });
  });

  it("rethrows failures, so Lambda records them and retries an asynchronous start", async () => {
    const failing = createJob("sweep", async () => {
      throw new ServiceUnavailableError();
    });
    await expect(failing({}, context)).rejects.toBeInstanceOf(ServiceUnavailableError);
    const broken = createJob("sweep", async () => {
      throw new TypeError("bug");
    });
    await expect(broken({}, context)).rejects.toBeInstanceOf(TypeError);
  });
});
