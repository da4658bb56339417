import { InvokeCommand, LambdaClient, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobSpec } from "../../functions/jobs";
import { startLocalLambda } from "./lambda";
import { freePort } from "./processes";

/** The local Lambda Invoke endpoint, spoken to by the real SDK client as `startJob` does. */
const events: unknown[] = [];
let failuresLeft = 0;
const job = (id: string, trigger: JobSpec["trigger"]) => ({
  id,
  handler: `test/${id}`,
  summary: id,
  trigger,
  permissions: [],
  timeoutSeconds: 5,
});

let server: Awaited<ReturnType<typeof startLocalLambda>>;
let client: LambdaClient;

beforeAll(async () => {
  const port = await freePort();
  server = await startLocalLambda({
    port,
    functionNamePrefix: "coachvault-test-",
    jobs: [job("echo", { started: true }), job("nightly", { schedule: "rate(1 day)" })],
    loadHandler: async () => async (event, context) => {
      events.push(event);
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error("boom");
      }
      return { echoed: event, remainingMs: context.getRemainingTimeInMillis() > 0 };
    },
  });
  client = new LambdaClient({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
  });
});
afterAll(() => server.close());

const invoke = (name: string, payload: unknown, type: "Event" | "RequestResponse") =>
  client.send(
    new InvokeCommand({
      FunctionName: name,
      InvocationType: type,
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return check();
};

describe("local Lambda endpoint", () => {
  it("answers an Event invocation 202 at once and runs the job afterwards", async () => {
    events.length = 0;
    const out = await invoke("coachvault-test-echo", { n: 1 }, "Event");
    expect(out.StatusCode).toBe(202);
    expect(await until(() => events.length === 1)).toBe(true);
    expect(events[0]).toEqual({ n: 1 });
  });

  it("retries a failed Event invocation, as Lambda does", async () => {
    events.length = 0;
    failuresLeft = 1;
    await invoke("coachvault-test-echo", { n: 2 }, "Event");
    expect(await until(() => events.length === 2)).toBe(true);
  });

  it("answers a RequestResponse invocation with the job's result", async () => {
    const out = await invoke("coachvault-test-echo", { n: 3 }, "RequestResponse");
    expect(out.StatusCode).toBe(200);
    expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toEqual({
      echoed: { n: 3 },
      remainingMs: true,
    });
  });

  it("knows only started jobs: a scheduled one or an unknown name is ResourceNotFoundException", async () => {
    for (const name of ["coachvault-test-nightly", "coachvault-test-nothing"]) {
      await expect(invoke(name, {}, "Event")).rejects.toBeInstanceOf(ResourceNotFoundException);
    }
  });
});
