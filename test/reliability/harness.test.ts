import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { aws } from "../../shared/aws";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { testStack } from "../support/stack";

/** The in-process invocation and fault-injection harness the reliability suites stand on. */
const stack = testStack();
let coach: string;

beforeAll(async () => {
  coach = await stack.token("coach1@demo.example");
  installFaultInjector();
});

const count = async (table: string) =>
  (await aws("dynamo").send(new ScanCommand({ TableName: table, Select: "COUNT" }))).Count ?? 0;

describe("fault harness", () => {
  it("invokes a route in-process as the gateway does, and records its AWS calls", async () => {
    arm();
    const res = await invokeRoute("POST", "/clients", { token: coach, body: { name: "Harness Client" } });
    expect(res.status).toBe(201);
    const operations = recorded().calls.map((call) => `${call.service}:${call.operation}`);
    expect(operations).toContain("kms:GenerateDataKeyCommand");
    expect(operations.at(-1)).toBe("dynamo:TransactWriteItemsCommand");
    disarm();
  });

  it("a throttled KMS call answers a retryable 503 and writes nothing", async () => {
    arm();
    await invokeRoute("POST", "/clients", { token: coach, body: { name: "Harness Client" } });
    const kmsCall = recorded().calls.findIndex((call) => call.service === "kms");
    const before = await Promise.all([
      count(stack.endpoints.tables.records),
      count(stack.endpoints.tables.keys),
    ]);
    arm({ target: { index: kmsCall }, kind: "throttling" });
    const res = await invokeRoute("POST", "/clients", { token: coach, body: { name: "Harness Client" } });
    expect(recorded().fired).toBe(true);
    disarm();
    expect(res.status).toBe(503);
    expect(res.headers["Retry-After"]).toBe("1");
    expect(res.json.error.code).toBe("SERVICE_UNAVAILABLE");
    expect(
      await Promise.all([count(stack.endpoints.tables.records), count(stack.endpoints.tables.keys)]),
    ).toEqual(before);
  });
});
