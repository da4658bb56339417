import type { Context, DynamoDBRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { cloudFormationResponses } from "../../test/support/cloudformation";
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

describe("createJob for a deploy (runOnDeploy)", () => {
  const request = (url: string, RequestType: "Create" | "Update" | "Delete") => ({
    RequestType,
    ResponseURL: url,
    StackId: "arn:aws:cloudformation:us-east-1:111122223333:stack/CoachVault-test/1",
    RequestId: "cfn-1",
    LogicalResourceId: "JobsrefreshOnDeploy",
  });

  it("runs the job on Create and Update and answers SUCCESS; on Delete answers without running", async () => {
    const cfn = cloudFormationResponses();
    let runs = 0;
    const handler = createJob("refresh", async () => ({ runs: ++runs }), { runOnDeploy: true });
    try {
      for (const type of ["Create", "Update", "Delete"] as const)
        await handler(request(cfn.url, type), context);
    } finally {
      cfn.close();
    }
    expect(runs).toBe(2);
    expect(cfn.answers).toHaveLength(3);
    for (const answer of cfn.answers)
      expect(answer).toMatchObject({
        method: "PUT",
        Status: "SUCCESS",
        PhysicalResourceId: "refresh-on-deploy",
        RequestId: "cfn-1",
        LogicalResourceId: "JobsrefreshOnDeploy",
      });
  });

  it("a failed run answers FAILED naming only the error code, which fails the deploy", async () => {
    const cfn = cloudFormationResponses();
    const handler = createJob(
      "refresh",
      async () => {
        throw new ServiceUnavailableError("TOKEN_KEYS_UNREACHABLE", { cause: new Error("secret detail") });
      },
      { runOnDeploy: true },
    );
    try {
      await handler(request(cfn.url, "Create"), context);
    } finally {
      cfn.close();
    }
    expect(cfn.answers).toEqual([
      expect.objectContaining({
        Status: "FAILED",
        Reason: "refresh failed (TOKEN_KEYS_UNREACHABLE); see its log",
      }),
    ]);
  });

  it("a deploy request whose response URL is not CloudFormation's is no deploy request: the job answers nobody", async () => {
    const cfn = cloudFormationResponses();
    let runs = 0;
    const handler = createJob("refresh", async () => ({ runs: ++runs }), { runOnDeploy: true });
    try {
      for (const ResponseURL of [
        "http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/answer",
        "https://attacker.example/cloudformation-custom-resource-response-useast1",
        "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.attacker.example/answer",
        "https://169.254.169.254/latest/meta-data",
      ])
        await handler({ ...request(cfn.url, "Create"), ResponseURL }, context);
    } finally {
      cfn.close();
    }
    expect(cfn.answers).toEqual([]);
    expect(runs).toBe(4);
  });

  it("a job not marked runOnDeploy runs such an event like any other and answers nobody", async () => {
    const cfn = cloudFormationResponses();
    const handler = createJob("sweep", async (event: unknown) => event);
    try {
      await expect(handler(request(cfn.url, "Create"), context)).resolves.toMatchObject({
        RequestType: "Create",
      });
    } finally {
      cfn.close();
    }
    expect(cfn.answers).toEqual([]);
  });
});
