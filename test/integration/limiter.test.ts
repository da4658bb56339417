import { randomUUID } from "node:crypto";
import { DeleteCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../shared/auth/principal";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { admit, forgetBucketHints, principalKey } from "../../shared/protection";
import { consume } from "../../shared/protection/buckets";
import { capacityOf } from "../../shared/protection/gcra";
import { forgetCachedSettings } from "../../shared/settings";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { putOrgSettings, removeOrgSettings } from "../support/settings";
import { testStack } from "../support/stack";

/** The limiter against DynamoDB Local: its one conditional write per bucket, under concurrency. */
testStack();
const table = () => getConfig().TABLE_LIMITS;
const freshKey = () => `ORG#limiter-${randomUUID()}#USER#${randomUUID()}`;
const HOUR = { windowSeconds: 3600 };
const request = (key: string, quota: number, cost = 1) => ({
  key,
  cost,
  policy: { quota, ...HOUR },
  checkBlock: true,
  expiresAt: Math.ceil(Date.now() / 1000) + 7200,
});
const limiterCalls = () =>
  recorded().calls.filter(
    (call) => call.operation === "UpdateItemCommand" && call.input.TableName === table(),
  );

beforeAll(() => installFaultInjector());

describe("the limiter's buckets", () => {
  it("admits exactly the quota out of many concurrent consumers of one bucket", async () => {
    const key = freshKey();
    const outcomes = await Promise.all(Array.from({ length: 120 }, () => consume(request(key, 40))));
    expect(outcomes.filter((o) => o.outcome === "admitted")).toHaveLength(40);
    expect(outcomes.filter((o) => o.outcome === "limited")).toHaveLength(80);
  });

  it("admits exactly the quota when every consumer is a different instance (no hint at all)", async () => {
    const key = freshKey();
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, async () => {
        forgetBucketHints();
        return consume(request(key, 25, 1));
      }),
    );
    expect(outcomes.filter((o) => o.outcome === "admitted")).toHaveLength(25);
  });

  it("never starves a request on a bucket that many instances keep near now", async () => {
    // A large quota: each request moves tat by 60 µs, so the bucket hovers around now while 300 race.
    const key = freshKey();
    const policy = { quota: 1_000_000, windowSeconds: 60 };
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, async () => {
        forgetBucketHints();
        return consume({ ...request(key, 1), policy });
      }),
    );
    expect(outcomes.filter((o) => o.outcome === "admitted")).toHaveLength(300);
  });

  it("costs one write, and two only when another instance moved the bucket across now", async () => {
    const key = freshKey();
    arm();
    expect((await consume(request(key, 10))).outcome).toBe("admitted");
    expect((await consume(request(key, 10))).outcome).toBe("admitted");
    expect(limiterCalls()).toHaveLength(2);
    // Another instance's view: the bucket is gone (idle) while this instance's hint says in use.
    await aws("dynamo").send(new DeleteCommand({ TableName: table(), Key: { pk: key } }));
    arm();
    expect((await consume(request(key, 10))).outcome).toBe("admitted");
    const calls = limiterCalls();
    expect(calls).toHaveLength(2);
    expect(calls.map((call) => call.input.ConditionExpression as string)).toEqual([
      expect.stringContaining("tat > :floor"),
      expect.stringContaining("attribute_not_exists(tat)"),
    ]);
    disarm();
  });

  it("says how long to wait: one unit refills after window / quota", async () => {
    const key = freshKey();
    for (let i = 0; i < 4; i++) await consume(request(key, 4));
    const refused = await consume(request(key, 4));
    expect(refused.outcome).toBe("limited");
    if (refused.outcome !== "limited") return;
    // 3600 / 4 = 900 s for one unit, less the few milliseconds this test took.
    expect(refused.retryAfterMicros).toBeGreaterThan(890_000_000);
    expect(refused.retryAfterMicros).toBeLessThanOrEqual(900_000_000);
    const item = await aws("dynamo").send(new GetCommand({ TableName: table(), Key: { pk: key } }));
    expect(item.Item?.tat).toBeGreaterThan(Date.now() * 1000 + capacityOf({ quota: 4, ...HOUR }) - 1e9);
    expect(item.Item?.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });
});

describe("admit", () => {
  const orgId = `limiter-${randomUUID().slice(0, 8)}`;
  const coach: Principal = { orgId, userId: randomUUID(), role: "coach" } as Principal;
  const observed = { route: "clients/list", requestId: "test", ip: "127.0.0.1" };

  beforeAll(async () => {
    await putOrgSettings(orgId, { rateLimits: { windowSeconds: 3600, perRole: { coach: 2 }, perOrg: 10 } });
    forgetCachedSettings();
  });
  afterAll(async () => {
    await removeOrgSettings(orgId);
    await aws("dynamo").send(
      new DeleteCommand({ TableName: table(), Key: { pk: principalKey(orgId, coach.userId) } }),
    );
  });

  it("gives the org back what a refused principal's request consumed", async () => {
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await admit(coach, "read", observed));
    expect(answers.map((a) => a?.refusal?.code ?? "ok")).toEqual([
      "ok",
      "ok",
      "RATE_LIMITED",
      "RATE_LIMITED",
      "RATE_LIMITED",
    ]);
    // Two units spent on the org's bucket, however many the coach was refused.
    const other: Principal = { ...coach, userId: randomUUID() };
    const next = await admit(other, "read", observed);
    expect(next?.policies.find((p) => p.name === "org")?.remaining).toBe(7);
    await aws("dynamo").send(
      new DeleteCommand({ TableName: table(), Key: { pk: principalKey(orgId, other.userId) } }),
    );
  });

  it("is off, with no write at all, for an org that turned its limits off", async () => {
    const off = `limiter-off-${randomUUID().slice(0, 8)}`;
    await putOrgSettings(off, { rateLimits: { enabled: false } });
    forgetCachedSettings();
    arm();
    expect(await admit({ ...coach, orgId: off }, "write", observed)).toBeUndefined();
    expect(limiterCalls()).toEqual([]);
    disarm();
    await removeOrgSettings(off);
  });
});
