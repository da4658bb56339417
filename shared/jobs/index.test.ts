import type { Context, DynamoDBRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { jobMeta } from "../audit/build";
import { ServiceUnavailableError } from "../errors";
import { createJob, processStream } from ".";

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

describe("processStream", () => {
  const record = (sequence: string) =>
    ({ eventName: "INSERT", dynamodb: { SequenceNumber: sequence, Keys: {} } }) as unknown as DynamoDBRecord;
  const job = { service: "job:witness", meta: jobMeta("r", "job:witness"), remainingMs: () => 1000 };

  it("hands records over one after another and reports the ones that failed, so the stream delivers them again", async () => {
    const seen: string[] = [];
    let finished = false;
    const response = await processStream("witness", { Records: ["1", "2", "3"].map(record) }, job, () => ({
      record: async (change) => {
        const sequence = change.dynamodb?.SequenceNumber as string;
        seen.push(sequence);
        if (sequence === "2") throw new ServiceUnavailableError();
      },
      finish: async () => {
        finished = true;
      },
    }));
    expect(seen).toEqual(["1", "2", "3"]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "2" }]);
    expect(finished).toBe(true);
  });

  it("a batch whose finish fails fails whole", async () => {
    const failing = processStream("witness", { Records: [record("1")] }, job, () => ({
      record: async () => undefined,
      finish: async () => {
        throw new ServiceUnavailableError();
      },
    }));
    await expect(failing).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
