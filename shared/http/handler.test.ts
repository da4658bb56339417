import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { auditEntry } from "../audit/build";
import { noteAppended, phiFields } from "../audit/disclosure";
import { resetConfig } from "../config";
import { createHandler } from "./handler";
import { defineRoute } from "./route";

/** The pipeline's disclosure rule: a response leaves only if committed audit entries name its PHI. */
const route = defineRoute({
  method: "GET",
  path: "/probe",
  handler: "probe/get",
  summary: "probe",
  auth: "none",
  roles: [],
  permissions: [],
  responses: { 200: { description: "ok" } },
  phi: { discloses: phiFields(["name", "conditions"]) },
});
const event = {
  headers: {},
  body: null,
  isBase64Encoded: false,
  queryStringParameters: null,
  pathParameters: null,
  requestContext: { identity: { sourceIp: "127.0.0.1" } },
} as unknown as APIGatewayProxyEvent;
// The pipeline adds its own state to the Lambda context.
const context = { awsRequestId: "req-1", getRemainingTimeInMillis: () => 1000 } as unknown as Context & {
  state: never;
};
const entry = (fields: string[]) =>
  auditEntry(
    { service: "probe", orgId: "demo" },
    { requestId: "req-1", sourceIp: "-", userAgent: "-" },
    "probe.read",
    { type: "probe", id: "1" },
    fields,
  );

beforeAll(() => {
  for (const [name, value] of Object.entries({
    TABLE_RECORDS: "records",
    TABLE_DIRECTORY: "directory",
    TABLE_KEYS: "keys",
    TABLE_AUDIT: "audit",
    TABLE_WITNESS: "witness",
    TABLE_SETTINGS: "settings",
    TABLE_LIMITS: "limits",
    TABLE_IDEMPOTENCY: "idempotency",
    TABLE_SECURITY: "security",
    BUCKET_TRANSCRIPTS: "transcripts",
    KMS_DATA_KEY_ID: "key",
    USER_POOL_ID: "pool",
    USER_POOL_CLIENT_ID: "client",
  }))
    vi.stubEnv(name, value);
  resetConfig();
});
afterAll(() => {
  vi.unstubAllEnvs();
  resetConfig();
});

describe("disclosure guard", () => {
  it("sends a response whose PHI fields a committed entry names", async () => {
    const handler = createHandler(route, async () => {
      noteAppended(entry(["conditions", "name"]));
      return { status: 200, body: { id: "1", name: "x", conditions: ["y"] } };
    });
    expect((await handler(event, context)).statusCode).toBe(200);
  });

  it("withholds a response carrying PHI no entry names (500 AUDIT_INCOMPLETE, no PHI in the body)", async () => {
    const handler = createHandler(route, async () => {
      noteAppended(entry(["name"]));
      return { status: 200, body: { id: "1", name: "Secret Person", conditions: ["secret condition"] } };
    });
    const response = await handler(event, context);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body).error.code).toBe("AUDIT_INCOMPLETE");
    expect(response.body).not.toContain("Secret");
  });

  it("counts the time left to answer from when API Gateway received the request (its 29 s), not the function's start", async () => {
    let left = 0;
    const handler = createHandler({ ...route, phi: {} }, async ({ remainingMs }) => {
      left = remainingMs();
      return { status: 200, body: {} };
    });
    const received = Date.now() - 28_000;
    const late = { ...event, requestContext: { ...event.requestContext, requestTimeEpoch: received } };
    const roomy = { ...context, getRemainingTimeInMillis: () => 20_000 };
    await handler(late as typeof event, roomy);
    expect(left).toBeLessThanOrEqual(1_000);
  });

  it("does not count a failed entry as naming anything", async () => {
    const handler = createHandler(route, async () => {
      noteAppended({ ...entry(["name"]), outcome: "failure" });
      return { status: 200, body: { name: "x" } };
    });
    expect((await handler(event, context)).statusCode).toBe(500);
  });
});
