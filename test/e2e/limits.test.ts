import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { DeleteCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { forgetBucketHints, orgKey, principalKey } from "../../shared/protection";
import { signalPartition } from "../../shared/security";
import { forgetCachedSettings } from "../../shared/settings";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { securityEventFor } from "../support/security-events";
import { putOrgSettings, removeOrgSettings, settingsApply } from "../support/settings";
import { testStack } from "../support/stack";

/**
 * Rate limits and blocking over HTTPS on the local stack, in the `other` org, whose settings document
 * each test writes (the stack reads settings with a 1 s max age) and which is removed again at the end,
 * with every limiter item of the org (no block outlives this file). `demo` runs with the suite's settings.
 */
const stack = testStack();
const { api } = stack;
const ORG = "other";
const idOf = (email: string) => stack.users.find((user) => user.email === email)?.userId as string;
const OTHER_USERS = ["admin@other.example", "coach@other.example", "compliance@other.example"];
let admin: string;
let coach: string;
let compliance: string;

const header = (res: { headers: Record<string, string | string[] | undefined> }, name: string) =>
  res.headers[name.toLowerCase()] as string | undefined;

/** The RateLimit field as numbers, per policy. */
function rateLimit(res: { headers: Record<string, string | string[] | undefined> }) {
  const value = header(res, "RateLimit") ?? "";
  const match = /^"user";r=(\d+);t=(\d+), "org";r=(\d+);t=(\d+)$/.exec(value);
  if (!match) throw new Error(`RateLimit field malformed: ${value}`);
  const [user, userReset, org, orgReset] = match.slice(1).map(Number) as [number, number, number, number];
  return { user, userReset, org, orgReset };
}

/** Every limiter item of the org gone: full buckets, no strikes, no blocks. */
async function resetLimiter() {
  const keys = [orgKey(ORG), ...OTHER_USERS.map((email) => principalKey(ORG, idOf(email)))];
  for (const pk of keys)
    await aws("dynamo").send(new DeleteCommand({ TableName: getConfig().TABLE_LIMITS, Key: { pk } }));
  forgetBucketHints();
}

async function withSettings(settings: unknown) {
  await putOrgSettings(ORG, settings);
  await resetLimiter();
  forgetCachedSettings();
  await settingsApply();
}

beforeAll(async () => {
  [admin, coach, compliance] = (await Promise.all(OTHER_USERS.map((email) => stack.token(email)))) as [
    string,
    string,
    string,
  ];
});
beforeEach(async () => {
  await removeOrgSettings(ORG);
  await resetLimiter();
  forgetCachedSettings();
  await settingsApply();
});
afterAll(async () => {
  await removeOrgSettings(ORG);
  await resetLimiter();
  await settingsApply();
});

describe("RateLimit header fields", () => {
  it("are on a 200, on errors, exposed to the app's origin, and count down per policy", async () => {
    const origin = "https://app.test.example";
    const first = await api("GET", "/clients", { token: coach, headers: { origin } });
    expect(first.status).toBe(200);
    // The built-in policies: 100 a minute for a coach, 5000 for the org.
    expect(header(first, "RateLimit-Policy")).toBe('"user";q=100;w=60, "org";q=5000;w=60');
    expect(rateLimit(first).user).toBeLessThanOrEqual(99);
    const exposed = (header(first, "Access-Control-Expose-Headers") ?? "").split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["RateLimit-Policy", "RateLimit", "Retry-After"]));

    // An hour's window: nothing refills during the test, so the counts are exact.
    await withSettings({ rateLimits: { windowSeconds: 3600 } });
    const ok = await api("GET", "/clients", { token: coach });
    expect(header(ok, "RateLimit-Policy")).toBe('"user";q=100;w=3600, "org";q=5000;w=3600');
    // One unit refills in 36 s (user) and 0.72 s (org): t is when the bucket is full again.
    expect(rateLimit(ok)).toMatchObject({ user: 99, userReset: 36 });
    const missing = await api("GET", `/clients/${randomUUID()}`, { token: coach });
    expect(missing.status).toBe(404);
    expect(rateLimit(missing)).toMatchObject({ user: 98, userReset: 72 });
    const invalid = await api("GET", "/clients/not-a-uuid", { token: coach });
    expect(invalid.status).toBe(400);
    expect(rateLimit(invalid).user).toBe(97);
    // A write costs 2.
    const refused = await api("POST", "/users", {
      token: coach,
      body: { email: "x@other.example", role: "coach" },
    });
    expect(refused.status).toBe(403);
    expect(rateLimit(refused).user).toBe(95);
    expect(rateLimit(refused).org).toBeLessThanOrEqual(4995);

    // No principal, no partition: a request without a valid token carries none (the WAF limits those per IP).
    const anonymous = await api("GET", "/clients");
    expect(anonymous.status).toBe(401);
    expect(header(anonymous, "RateLimit")).toBeUndefined();
  });
});

describe("the rate limit", () => {
  it("answers 429 RATE_LIMITED with Retry-After once a coach spends the quota, and the headers agree", async () => {
    await withSettings({ rateLimits: { windowSeconds: 3600, perRole: { coach: 5 } } });
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api("GET", "/clients", { token: coach });
      expect(res.status).toBe(200);
      remaining.push(rateLimit(res).user);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await api("GET", "/clients", { token: coach });
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe("RATE_LIMITED");
    const retryAfter = Number(header(refused, "Retry-After"));
    // One unit refills in 3600 / 5 = 720 s.
    expect(retryAfter).toBeGreaterThan(700);
    expect(retryAfter).toBeLessThanOrEqual(720);
    expect(header(refused, "RateLimit-Policy")).toBe('"user";q=5;w=3600, "org";q=5000;w=3600');
    expect(rateLimit(refused)).toMatchObject({ user: 0, userReset: retryAfter });
    // Other principals of the org are not affected by one coach's limit.
    expect((await api("GET", "/clients", { token: admin })).status).toBe(200);
  });

  it("admits exactly the quota out of concurrent requests", async () => {
    await withSettings({ rateLimits: { windowSeconds: 3600, perRole: { coach: 8 } } });
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => api("GET", "/clients", { token: coach })),
    );
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(8);
    expect(statuses.filter((status) => status === 429)).toHaveLength(22);
  });

  it("isolates tenants: an org at its limit refuses its own people only, and that is no one's strike", async () => {
    await withSettings({
      rateLimits: { windowSeconds: 3600, perOrg: 3 },
      blocking: { rateLimitedRequests: 1 },
    });
    for (let i = 0; i < 3; i++) expect((await api("GET", "/clients", { token: admin })).status).toBe(200);
    const refused = await api("GET", "/audit/entries?limit=1", { token: compliance });
    expect(refused.status).toBe(429);
    expect(rateLimit(refused).org).toBe(0);
    // Refused by the org's limit again: still a 429, not a block (a strike needs the principal's own limit).
    expect((await api("GET", "/audit/entries?limit=1", { token: compliance })).status).toBe(429);
    // The other org does not notice.
    const elsewhere = await api("GET", "/clients", { token: await stack.token("coach1@demo.example") });
    expect(elsewhere.status).toBe(200);
    expect(header(elsewhere, "RateLimit-Policy")).toBe('"user";q=100000;w=3600, "org";q=1000000;w=3600');
  });
});

describe("blocking", () => {
  const coachId = () => idOf("coach@other.example");

  it("blocks after repeated denials; an admin lifts it, audited; then requests succeed again", async () => {
    await withSettings({ blocking: { deniedRequests: 3, windowSeconds: 300, blockSeconds: 600 } });
    const started = new Date().toISOString();
    for (let i = 0; i < 3; i++) {
      const denied = await api("GET", "/users", { token: coach });
      expect(denied.status).toBe(403);
      expect(denied.json.error.code).toBe("FORBIDDEN");
    }
    const blocked = await api("GET", "/clients", { token: coach });
    expect(blocked.status).toBe(403);
    expect(blocked.json.error.code).toBe("TEMPORARILY_BLOCKED");
    const retryAfter = Number(header(blocked, "Retry-After"));
    expect(retryAfter).toBeGreaterThan(580);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(header(blocked, "RateLimit-Policy")).toBeDefined();
    // Blocked answers are not denials of their own: no new strike, no second block event.
    expect((await api("GET", "/users", { token: coach })).json.error.code).toBe("TEMPORARILY_BLOCKED");

    const event = await securityEventFor(
      stack.logFile,
      (line) => line.securityEvent === "PRINCIPAL_BLOCKED" && line.userId === coachId(),
    );
    expect(event).toMatchObject({ orgId: ORG, reason: "denials" });
    expect(JSON.stringify(event)).not.toContain("@");

    // The signals the detectors read: three denials and the block, ids and reasons only.
    const signals = await aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_SECURITY,
        KeyConditionExpression: "pk = :pk AND sk > :from",
        ExpressionAttributeValues: { ":pk": signalPartition(ORG), ":from": `SIGNAL#${started}` },
      }),
    );
    const mine = (signals.Items ?? []).filter((item) => item.userId === coachId());
    expect(mine.filter((item) => item.kind === "denied")).toHaveLength(3);
    expect(mine.filter((item) => item.kind === "blocked")).toEqual([
      expect.objectContaining({ reason: "denials", route: "users/list" }),
    ]);
    expect(mine.filter((item) => item.kind === "denied").map((item) => item.reason)).toEqual([
      "role",
      "role",
      "role",
    ]);

    // Only an admin of the same org lifts it.
    expect((await api("DELETE", `/users/${coachId()}/block`, { token: compliance })).status).toBe(403);
    const demoAdmin = await stack.token("admin@demo.example");
    expect((await api("DELETE", `/users/${coachId()}/block`, { token: demoAdmin })).status).toBe(404);
    expect((await api("GET", "/clients", { token: coach })).json.error.code).toBe("TEMPORARILY_BLOCKED");

    const lifted = await api("DELETE", `/users/${coachId()}/block`, { token: admin });
    expect(lifted.status).toBe(204);
    expect((await api("GET", "/clients", { token: coach })).status).toBe(200);

    const entries = await api(
      "GET",
      `/audit/entries?actorId=${idOf("admin@other.example")}&action=user.unblock&from=${started}&limit=10`,
      { token: compliance },
    );
    expect(entries.status).toBe(200);
    expect(entries.json.items.map((item: { entry: unknown }) => item.entry)).toEqual([
      expect.objectContaining({
        resource: { type: "user", id: coachId() },
        fields: ["block"],
        outcome: "success",
      }),
    ]);
    // Lifting a block that is not there: 204 all the same (idempotent), and audited as well.
    expect((await api("DELETE", `/users/${coachId()}/block`, { token: admin })).status).toBe(204);
    expect(readFileSync(stack.logFile, "utf8")).toContain('"PRINCIPAL_UNBLOCKED"');
  });

  it("blocks a principal that keeps hitting the rate limit", async () => {
    await withSettings({
      rateLimits: { windowSeconds: 3600, perRole: { coach: 1 } },
      blocking: { rateLimitedRequests: 2 },
    });
    expect((await api("GET", "/clients", { token: coach })).status).toBe(200);
    expect((await api("GET", "/clients", { token: coach })).status).toBe(429);
    expect((await api("GET", "/clients", { token: coach })).status).toBe(429);
    const blocked = await api("GET", "/clients", { token: coach });
    expect(blocked.status).toBe(403);
    expect(blocked.json.error.code).toBe("TEMPORARILY_BLOCKED");
    // The default block: 900 s.
    expect(Number(header(blocked, "Retry-After"))).toBeGreaterThan(880);
    await securityEventFor(
      stack.logFile,
      (line) => line.securityEvent === "PRINCIPAL_BLOCKED" && line.reason === "rate_limit",
    );
    expect((await api("DELETE", `/users/${coachId()}/block`, { token: admin })).status).toBe(204);
    // Lifting a block never refills the bucket: the coach is over their limit still (429, not blocked),
    // and the strikes start again from zero.
    const limited = await api("GET", "/clients", { token: coach });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("RATE_LIMITED");
    expect(Number(header(limited, "Retry-After"))).toBeGreaterThan(3000);
    expect((await api("GET", "/clients", { token: coach })).status).toBe(429);
  });

  it("refuses an admin lifting their own block or strikes (another admin must)", async () => {
    const adminId = idOf("admin@other.example");
    const own = await api("DELETE", `/users/${adminId}/block`, { token: admin });
    expect(own.status).toBe(403);
    expect(own.json.error.code).toBe("FORBIDDEN");
  });
});

describe("faults", () => {
  beforeAll(() => installFaultInjector());

  it("answers 503 with Retry-After when the limiter's write is throttled, and the next request passes", async () => {
    forgetCachedSettings();
    const target = {
      service: "dynamo",
      operation: "UpdateItemCommand",
      table: getConfig().TABLE_LIMITS,
      occurrence: 0,
    };
    // Retry-After is spread over 1–3 s (clients refused together do not come back together): the top here.
    const random = vi.spyOn(Math, "random").mockReturnValue(0.99);
    arm({ target, kind: "throttling" });
    try {
      const res = await invokeRoute("GET", "/clients", { token: coach });
      expect(recorded().fired).toBe(true);
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("SERVICE_UNAVAILABLE");
      expect(res.headers["Retry-After"]).toBe("3");
    } finally {
      disarm();
      random.mockRestore();
    }
    expect((await invokeRoute("GET", "/clients", { token: coach })).status).toBe(200);
  });
});
