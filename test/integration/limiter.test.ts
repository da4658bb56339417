import { randomUUID } from "node:crypto";
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Principal } from "../../shared/auth/principal";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { logger } from "../../shared/log";
import { admit, forgetBucketHints, orgKey, principalKey } from "../../shared/protection";
import { consume } from "../../shared/protection/buckets";
import { capacityOf } from "../../shared/protection/gcra";
import { forgetCachedSettings, MAX_BLOCK_SECONDS } from "../../shared/settings";
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

  it("clamps a tat or a block written beyond what the limiter ever writes, repairs it, and says so", async () => {
    const warn = vi.spyOn(logger, "warn");
    const key = freshKey();
    const tenYearsMs = 10 * 365 * 86_400_000;
    await aws("dynamo").send(
      new PutCommand({
        TableName: table(),
        Item: { pk: key, tat: (Date.now() + tenYearsMs) * 1000, blockedUntil: Date.now() + tenYearsMs },
      }),
    );
    forgetBucketHints();
    const blocked = await consume(request(key, 4));
    expect(blocked.outcome).toBe("blocked");
    if (blocked.outcome !== "blocked") return;
    expect(blocked.blockedUntilMs).toBeLessThanOrEqual(Date.now() + MAX_BLOCK_SECONDS * 1000);
    const stored = await aws("dynamo").send(new GetCommand({ TableName: table(), Key: { pk: key } }));
    expect(stored.Item?.blockedUntil).toBeLessThanOrEqual(Date.now() + MAX_BLOCK_SECONDS * 1000);
    expect(stored.Item?.tat).toBeLessThanOrEqual(Date.now() * 1000 + capacityOf({ quota: 4, ...HOUR }));
    expect(warn).toHaveBeenCalledWith(expect.any(String), {
      securityEvent: "LIMITER_STATE_INVALID",
      bucket: key,
      fields: ["tat", "blockedUntil"],
    });

    // A tat alone: the bucket counts as full (a wait of one unit, 900 s), not as full for ten years.
    const other = freshKey();
    await aws("dynamo").send(
      new PutCommand({ TableName: table(), Item: { pk: other, tat: (Date.now() + tenYearsMs) * 1000 } }),
    );
    const limited = await consume(request(other, 4));
    expect(limited.outcome).toBe("limited");
    if (limited.outcome !== "limited") return;
    expect(limited.retryAfterMicros).toBeLessThanOrEqual(900_000_000);
    expect(warn).toHaveBeenCalledWith(expect.any(String), {
      securityEvent: "LIMITER_STATE_INVALID",
      bucket: other,
      fields: ["tat"],
    });
    warn.mockRestore();
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

  it("reports nothing left for a blocked principal, whatever their bucket holds", async () => {
    const blocked: Principal = { ...coach, userId: randomUUID() };
    await blockFor(principalKey(orgId, blocked.userId), 60_000);
    const answer = await admit(blocked, "read", observed);
    expect(answer.refusal?.code).toBe("TEMPORARILY_BLOCKED");
    expect(answer.policies.find((p) => p.name === "user")).toMatchObject({ remaining: 0 });
    expect(answer.policies.find((p) => p.name === "user")?.resetSeconds).toBeGreaterThan(55);
  });

  it("keeps the org's figures after a refund: a later refusal does not report a full org bucket", async () => {
    const spender: Principal = { ...coach, userId: randomUUID() };
    const before = (await admit(spender, "read", observed)).policies.find((p) => p.name === "org");
    // Another instance spends the spender's last unit: this instance's hint still says one is left, so it
    // asks both buckets at once; the org's admits and is given back.
    await aws("dynamo").send(
      new UpdateCommand({
        TableName: table(),
        Key: { pk: principalKey(orgId, spender.userId) },
        UpdateExpression: "SET tat = :full",
        ExpressionAttributeValues: { ":full": Date.now() * 1000 + 3600 * 1_000_000 },
      }),
    );
    arm();
    expect((await admit(spender, "read", observed)).refusal?.code).toBe("RATE_LIMITED");
    expect(
      limiterCalls().filter((call) => call.input.UpdateExpression === "SET tat = tat - :inc"),
    ).toHaveLength(1);
    disarm();
    // This instance now asks the principal's bucket alone: the org's figures come from its hint.
    const later = await admit(spender, "read", observed);
    expect(later.refusal?.code).toBe("RATE_LIMITED");
    expect(later.policies.find((p) => p.name === "org")?.remaining).toBe(before?.remaining);
    await aws("dynamo").send(
      new DeleteCommand({ TableName: table(), Key: { pk: principalKey(orgId, spender.userId) } }),
    );
  });

  it("never lets a principal's first burst on an instance touch the org's bucket beyond their own quota", async () => {
    const burster: Principal = { ...coach, userId: randomUUID() };
    forgetBucketHints();
    arm();
    const answers = await Promise.all(Array.from({ length: 12 }, () => admit(burster, "read", observed)));
    expect(answers.filter((a) => !a.refusal)).toHaveLength(2);
    const onOrg = limiterCalls().filter((call) => (call.input.Key as { pk: string }).pk === orgKey(orgId));
    // Two consumes (the admitted two; each a second write at most, when the form guessed was wrong) and no
    // refund: the org's bucket never held the burst's other ten.
    expect(onOrg.filter((call) => call.input.UpdateExpression === "SET tat = tat - :inc")).toEqual([]);
    expect(onOrg.length).toBeLessThanOrEqual(4);
    disarm();
    await aws("dynamo").send(
      new DeleteCommand({ TableName: table(), Key: { pk: principalKey(orgId, burster.userId) } }),
    );
  });

  it("with the rate limits off, writes no bucket and reports none, but still enforces a block", async () => {
    const off = `limiter-off-${randomUUID().slice(0, 8)}`;
    await putOrgSettings(off, { rateLimits: { enabled: false } });
    forgetCachedSettings();
    const principal = { ...coach, orgId: off };
    arm();
    const free = await admit(principal, "write", observed);
    expect(free.refusal).toBeUndefined();
    expect(free.policies).toEqual([]);
    // One conditional write on the principal's item (the block check), none on any bucket's tat.
    expect(limiterCalls().map((call) => call.input.UpdateExpression)).toEqual([
      "SET expiresAt = if_not_exists(expiresAt, :exp)",
    ]);
    disarm();
    await blockFor(principalKey(off, coach.userId), 120_000);
    const refused = await admit(principal, "write", observed);
    expect(refused.refusal?.code).toBe("TEMPORARILY_BLOCKED");
    expect(refused.refusal?.retryAfterSeconds).toBeGreaterThan(100);
    await removeOrgSettings(off);
    await aws("dynamo").send(
      new DeleteCommand({ TableName: table(), Key: { pk: principalKey(off, coach.userId) } }),
    );
  });
});

/** A block as the limiter writes it, `ms` from now. */
async function blockFor(pk: string, ms: number) {
  await aws("dynamo").send(
    new UpdateCommand({
      TableName: table(),
      Key: { pk },
      UpdateExpression: "SET blockedUntil = :until",
      ExpressionAttributeValues: { ":until": Date.now() + ms },
    }),
  );
  forgetBucketHints();
}
