import { randomUUID } from "node:crypto";
import { DeleteCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { aws } from "../../shared/aws";
import { dataKeyItemKey, forgetDataKey } from "../../shared/crypto";
import {
  arm,
  disarm,
  type FaultKind,
  hasCondition,
  installFaultInjector,
  recorded,
  targetsOf,
} from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { testStack } from "../support/stack";

/**
 * Idempotent retries under faults: every call a keyed POST /clients makes to the idempotency store fails
 * once (throttled, a 500, a lost answer after it took effect, a failed condition); the answer is a 201 or
 * a retryable 503/409, never a 500, and retrying with the same key never makes a second client.
 */
const stack = testStack();
const { tables } = stack.endpoints;
let coach: string;
let unassignedCoach: string;
let otherOrgCoach: string;

beforeAll(async () => {
  [coach, unassignedCoach, otherOrgCoach] = await Promise.all([
    stack.token("coach1@demo.example"),
    stack.token("coach2@demo.example"),
    stack.token("coach@other.example"),
  ]);
  installFaultInjector();
});

/** Data keys: one per client created. */
const keyCount = async () =>
  (await aws("dynamo").send(new ScanCommand({ TableName: tables.keys, Select: "COUNT" }))).Count ?? 0;
const create = (key: string, body: unknown) =>
  invokeRoute("POST", "/clients", { token: coach, body, headers: { "Idempotency-Key": key } });
const newBody = () => ({ name: `Fault Keyed ${randomUUID().slice(0, 8)}`, conditions: ["asthma"] });

describe("faults in the idempotency store's own calls", () => {
  it("never a 500, never a second client: the first answer or a retryable one, and a retry converges", async () => {
    // A keyed request's calls, once warm (the deployment's digest key already unwrapped).
    await create(randomUUID(), newBody());
    arm();
    expect((await create(randomUUID(), newBody())).status).toBe(201);
    const store = targetsOf(recorded().calls).filter((target) => target.table === tables.idempotency);
    const calls = recorded().calls.filter((call) => call.input.TableName === tables.idempotency);
    disarm();
    expect(store.map((target) => target.operation)).toEqual(["PutItemCommand", "UpdateItemCommand"]);

    const KINDS: readonly FaultKind[] = ["throttling", "server", "timeout", "conditional"];
    let cases = 0;
    for (const [index, target] of store.entries()) {
      for (const kind of KINDS) {
        if (kind === "conditional" && !hasCondition(calls[index] as never)) continue;
        const key = randomUUID();
        const body = newBody();
        const before = await keyCount();
        arm({ target, kind });
        const first = await create(key, body);
        expect(recorded().fired, `${target.operation} ${kind}`).toBe(true);
        disarm();
        const retry = await create(key, body);
        const answers = [first, retry];
        const label = `${target.operation} ${kind}: ${answers.map((a) => a.status).join(" then ")}`;
        for (const answer of answers) expect([201, 409, 503], label).toContain(answer.status);
        const made = new Set(answers.filter((a) => a.status === 201).map((a) => a.json.clientId));
        expect(made.size, label).toBeLessThanOrEqual(1);
        expect(await keyCount(), label).toBe(before + made.size);
        // A first attempt that failed before its work leaves the key free: its retry runs (or, when the lost
        // answer was the in-progress record's own, waits for it to expire: 409, nothing made).
        if (first.status === 503) expect(retry.status === 201 || retry.status === 409, label).toBe(true);
        if (first.status === 201) {
          expect(retry.status, label).toBe(201);
          expect(retry.headers["Idempotent-Replayed"], label).toBe("true");
        }
        cases += 1;
      }
    }
    expect(cases).toBeGreaterThanOrEqual(7);
  });
});

describe("a first request that fails leaves no record", () => {
  it("its retry with the same key runs again (Powertools deletes the in-progress record)", async () => {
    const clientId = (await invokeRoute("POST", "/clients", { token: coach, body: newBody() })).json.clientId;
    const key = randomUUID();
    const session = { startsAt: "2026-11-02T09:00:00Z", durationMinutes: 45, type: "coaching" };
    const keyed = { token: coach, body: session, headers: { "Idempotency-Key": key } };
    // No coaching consent yet: the session is refused, and nothing of the key is kept.
    const refused = await invokeRoute("POST", `/clients/${clientId}/sessions`, keyed);
    expect(refused.status).toBe(409);
    await invokeRoute("PUT", `/clients/${clientId}/consents/coaching`, {
      token: coach,
      body: { version: "1" },
    });
    const retried = await invokeRoute("POST", `/clients/${clientId}/sessions`, keyed);
    expect(retried.status).toBe(201);
    expect(retried.headers["Idempotent-Replayed"]).toBeUndefined();
  });

  it("when deleting its record fails too, the answer is a retryable 503 (never a 500) and the key stays busy, not reused", async () => {
    const clientId = (await invokeRoute("POST", "/clients", { token: coach, body: newBody() })).json.clientId;
    const key = randomUUID();
    const session = { startsAt: "2026-11-03T09:00:00Z", durationMinutes: 30, type: "coaching" };
    const keyed = { token: coach, body: session, headers: { "Idempotency-Key": key } };
    arm({
      target: { service: "dynamo", operation: "DeleteItemCommand", table: tables.idempotency, occurrence: 0 },
      kind: "throttling",
    });
    const failed = await invokeRoute("POST", `/clients/${clientId}/sessions`, keyed);
    expect(recorded().fired).toBe(true);
    disarm();
    expect(failed.status).toBe(503);
    expect(failed.headers["Retry-After"]).toBe("1");
    // The in-progress record expires with the first invocation's time (its function timeout); until then, 409.
    const busy = await invokeRoute("POST", `/clients/${clientId}/sessions`, keyed);
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe("IDEMPOTENCY_IN_PROGRESS");
  });
});

describe("a keyed request the caller may not make", () => {
  // The keyed routes whose answer is sealed under the path client's key.
  const ROUTES = [
    { method: "PUT", path: (id: string) => `/clients/${id}/consents/coaching`, body: { version: "1" } },
    {
      method: "POST",
      path: (id: string) => `/clients/${id}/sessions`,
      body: { startsAt: "2026-11-04T09:00:00Z", durationMinutes: 30, type: "coaching" },
    },
    { method: "POST", path: (id: string) => `/clients/${id}/notes`, body: { text: "Talked about sleep." } },
  ] as const;
  const orgOf = (email: string) => stack.users.find((user) => user.email === email)?.orgId as string;
  const kmsCalls = () => recorded().calls.filter((call) => call.service === "kms");

  it("is the same 404 with or without a key (unknown, other org's, unassigned client), and unwraps no key", async () => {
    const created = await invokeRoute("POST", "/clients", { token: coach, body: newBody() });
    const otherOrgs = await invokeRoute("POST", "/clients", { token: otherOrgCoach, body: newBody() });
    const unassigned = created.json.clientId as string;
    const cases = [
      { label: "unknown client", clientId: randomUUID() },
      { label: "another org's client", clientId: otherOrgs.json.clientId as string },
      { label: "a client of the org the caller is not assigned to", clientId: unassigned },
    ];
    for (const route of ROUTES) {
      for (const { label, clientId } of cases) {
        const what = `${route.method} ${route.path(":id")}, ${label}`;
        const call = (headers?: Record<string, string>) =>
          invokeRoute(route.method, route.path(clientId), {
            token: unassignedCoach,
            body: route.body,
            headers,
          });
        const plain = await call();
        // Nothing cached from the client's creation: a key fetch would show as a KMS Decrypt.
        forgetDataKey({ orgId: orgOf("coach1@demo.example"), clientId: unassigned });
        arm();
        const keyed = await call({ "Idempotency-Key": randomUUID() });
        const kms = kmsCalls();
        disarm();
        expect(plain.status, what).toBe(404);
        expect(keyed.status, what).toBe(404);
        expect({ ...keyed.json.error, requestId: undefined }, what).toEqual({
          ...plain.json.error,
          requestId: undefined,
        });
        expect(kms, what).toEqual([]);
      }
    }
  });

  it("a client whose key is gone (crypto-shredded) is a 404 like a missing client, not a retryable 503", async () => {
    const clientId = (await invokeRoute("POST", "/clients", { token: coach, body: newBody() })).json.clientId;
    const ref = { orgId: orgOf("coach1@demo.example"), clientId };
    await aws("dynamo").send(new DeleteCommand({ TableName: tables.keys, Key: dataKeyItemKey(ref) }));
    forgetDataKey(ref);
    for (const route of ROUTES) {
      const keyed = await invokeRoute(route.method, route.path(clientId), {
        token: coach,
        body: route.body,
        headers: { "Idempotency-Key": randomUUID() },
      });
      expect(keyed.status, route.path(":id")).toBe(404);
      expect(keyed.json.error.code, route.path(":id")).toBe("NOT_FOUND");
    }
  });
});
