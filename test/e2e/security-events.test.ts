import { randomInt, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { raiseUnreviewedGrants } from "../../functions/security/reviews.job";
import { readPublished } from "../../infra/local/sns";
import { grantRecordKey } from "../../shared/access";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import {
  OUTBOX_PARTITION,
  publishPendingAlerts,
  raiseSecurityEvent,
  type SecurityEvent,
  type Signal,
} from "../../shared/security";
import { getRecord } from "../../shared/store";
import { arm, disarm, installFaultInjector } from "../support/faults";
import { inviteUser, tokenFor } from "../support/people";
import { testStack } from "../support/stack";

/**
 * Security findings end to end: the list route (range, type, cursor, roles, tenants), the break-glass
 * review flow and its unreviewed-grant finding, what the alarm topic receives (the local SNS endpoint's
 * file) and that it carries no PHI, a publish that fails losing nothing, and 401s as bounded signals.
 */
const stack = testStack();
const { api } = stack;
const T = (email: string) => stack.token(email);
const DEMO = "demo";

const published = () => readPublished(stack.dir).map((m) => JSON.parse(m.message) as Record<string, any>);

const finding = (overrides: Partial<SecurityEvent> & Pick<SecurityEvent, "at">): SecurityEvent => ({
  type: "repeated_denials",
  severity: "medium",
  orgId: DEMO,
  window: { from: overrides.at, to: overrides.at },
  subject: { userId: "user-x" },
  rule: "repeated_denials",
  evidence: { denials: 7 },
  dedupeKey: `test#${randomUUID()}`,
  ...overrides,
});

/** A break-glass grant by the demo admin on a fresh client of coach1 whose name and reason are markers. */
async function newGrant(marker: string) {
  const client = await api("POST", "/clients", {
    token: await T("coach1@demo.example"),
    body: { name: `Zebulon ${marker}`, email: `${marker.toLowerCase()}@patients.example` },
  });
  const grant = await api("POST", `/clients/${client.json.clientId}/break-glass`, {
    token: await T("admin@demo.example"),
    body: { reason: `Emergency for Zebulon ${marker}: the client called in crisis.` },
  });
  expect([client.status, grant.status]).toEqual([201, 201]);
  return { clientId: client.json.clientId as string, grantId: grant.json.grantId as string };
}

describe("GET /security/events", () => {
  // A window of its own, far from anything else the run raises.
  const year = 2030 + randomInt(0, 60);
  const at = (minute: number) => new Date(Date.UTC(year, 0, 1, 0, minute)).toISOString();
  const range = `from=${at(0)}&to=${at(59)}`;
  const types = [
    "repeated_denials",
    "bulk_access",
    "repeated_denials",
    "after_hours_access",
    "repeated_denials",
  ];

  beforeAll(async () => {
    for (const [minute, type] of types.entries())
      expect(
        await raiseSecurityEvent(finding({ at: at(minute + 1), type: type as SecurityEvent["type"] })),
      ).toBe("raised");
    await raiseSecurityEvent(finding({ at: at(3), orgId: "other", type: "brute_force" }));
  });

  it("lists the org's findings newest first, a bounded page at a time, with a sealed cursor", async () => {
    const token = await T("compliance@demo.example");
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await api(
        "GET",
        `/security/events?${range}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        { token },
      );
      expect(res.status, res.text).toBe(200);
      expect(res.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.items.map((item: { at: string }) => item.at));
      cursor = res.json.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([at(5), at(4), at(3), at(2), at(1)]);
    expect(pages).toBe(3);
  });

  it("filters by type; a cursor opens only for the list it came from; unknown or bad parameters are a 400", async () => {
    const token = await T("admin@demo.example");
    const repeated = await api("GET", `/security/events?${range}&type=repeated_denials&limit=1`, { token });
    expect(repeated.status).toBe(200);
    expect(repeated.json.items.map((item: { at: string }) => item.at)).toEqual([at(5)]);
    const all = await api("GET", `/security/events?${range}&type=repeated_denials`, { token });
    expect(all.json.items.map((item: { at: string }) => item.at)).toEqual([at(5), at(3), at(1)]);
    const other = await api(
      "GET",
      `/security/events?${range}&type=bulk_access&cursor=${encodeURIComponent(repeated.json.nextCursor)}`,
      { token },
    );
    expect([other.status, other.json.error.code]).toEqual([400, "INVALID_CURSOR"]);
    for (const query of [
      `${range}&orgId=other`,
      `${range}&type=anything`,
      `from=${at(30)}&to=${at(1)}`,
      `from=${year - 2}-01-01T00:00:00Z&to=${at(1)}`,
      "limit=1000",
    ]) {
      const res = await api("GET", `/security/events?${query}`, { token });
      expect(res.status, query).toBe(400);
    }
  });

  it("is for compliance officers and admins of the org: a coach or lead gets 403; another org's findings stay invisible", async () => {
    for (const email of ["coach1@demo.example", "lead@demo.example"])
      expect((await api("GET", `/security/events?${range}`, { token: await T(email) })).status).toBe(403);
    const demo = await api("GET", `/security/events?${range}`, { token: await T("compliance@demo.example") });
    expect(demo.json.items.map((item: { type: string }) => item.type)).not.toContain("brute_force");
    const other = await api("GET", `/security/events?${range}`, {
      token: await T("compliance@other.example"),
    });
    expect(other.status).toBe(200);
    expect(other.json.items.map((item: { type: string; at: string }) => [item.type, item.at])).toEqual([
      ["brute_force", at(3)],
    ]);
  });
});

describe("break-glass review", () => {
  it("the grantee never reviews their own grant, nor a compliance officer the grantee invited (403 SECOND_PERSON_REQUIRED)", async () => {
    const admin = await T("admin@demo.example");
    const note = "Looked fine to me.";
    const fresh = () => `bg.${randomUUID().slice(0, 8)}@demo.example`;
    // An admin who takes a grant and is then made a compliance officer: reviewing it would be self-review.
    const grantee = { email: fresh(), role: "admin" as const };
    const granteeId = await inviteUser(api, admin, grantee);
    const client = await api("POST", "/clients", {
      token: await T("coach1@demo.example"),
      body: { name: "Zebulon Selfreview", email: "selfreview@patients.example" },
    });
    const grant = await api("POST", `/clients/${client.json.clientId}/break-glass`, {
      token: await tokenFor(admin, { userId: granteeId, ...grantee }),
      body: { reason: "Emergency for Zebulon Selfreview: the client called in crisis." },
    });
    expect(grant.status, grant.text).toBe(201);
    const grantId = grant.json.grantId as string;
    // A compliance officer the grantee invited within the two-person window: possibly the grantee's own address.
    const invited = { email: fresh(), role: "compliance_officer" as const };
    const invitedId = await inviteUser(
      api,
      await tokenFor(admin, { userId: granteeId, ...grantee }),
      invited,
    );
    const officer = await tokenFor(admin, { userId: invitedId, ...invited });
    const moved = await api("PATCH", `/users/${granteeId}`, {
      token: admin,
      body: { version: 1, role: "compliance_officer" },
    });
    expect(moved.status, moved.text).toBe(200);
    const self = await tokenFor(admin, {
      userId: granteeId,
      email: grantee.email,
      role: "compliance_officer",
    });
    for (const token of [self, officer]) {
      const refused = await api("POST", `/break-glass/${grantId}/review`, { token, body: { note } });
      expect([refused.status, refused.json?.error?.code], refused.text).toEqual([
        403,
        "SECOND_PERSON_REQUIRED",
      ]);
    }
    expect((await getRecord<Record<string, string>>(grantRecordKey(DEMO, grantId)))?.status).toBe("pending");
    // Another person reviews it.
    const reviewed = await api("POST", `/break-glass/${grantId}/review`, {
      token: await T("compliance@demo.example"),
      body: { note },
    });
    expect(reviewed.status, reviewed.text).toBe(200);
  });

  it("a grant is pending until a compliance officer reviews it, once (a second review is 409); others cannot", async () => {
    const { grantId, clientId } = await newGrant("Reviewcase");
    const record = await getRecord<Record<string, string>>(grantRecordKey(DEMO, grantId));
    expect(record).toMatchObject({ grantId, clientId, status: "pending" });
    const note = "Reviewed with Zebulon Reviewcase's coach: justified.";
    expect(
      (
        await api("POST", `/break-glass/${grantId}/review`, {
          token: await T("admin@demo.example"),
          body: { note },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await api("POST", `/break-glass/${grantId}/review`, {
          token: await T("compliance@other.example"),
          body: { note },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await api("POST", `/break-glass/${randomUUID()}/review`, {
          token: await T("compliance@demo.example"),
          body: { note },
        })
      ).status,
    ).toBe(404);
    const empty = await api("POST", `/break-glass/${grantId}/review`, {
      token: await T("compliance@demo.example"),
      body: { note: " " },
    });
    expect(empty.status).toBe(400);
    const compliance = await T("compliance@demo.example");
    const reviewed = await api("POST", `/break-glass/${grantId}/review`, {
      token: compliance,
      body: { note },
    });
    expect(reviewed.status, reviewed.text).toBe(200);
    expect(reviewed.json).toMatchObject({ grantId, clientId, status: "reviewed" });
    expect(reviewed.text).not.toContain("Zebulon");
    const again = await api("POST", `/break-glass/${grantId}/review`, { token: compliance, body: { note } });
    expect([again.status, again.json.error.code]).toEqual([409, "ALREADY_REVIEWED"]);
    const stored = await getRecord<Record<string, string>>(grantRecordKey(DEMO, grantId));
    expect(stored?.status).toBe("reviewed");
    // The note is sealed under the client's key.
    expect(JSON.stringify(stored)).not.toContain("Zebulon");
    expect(stored?.reviewNote).toBeDefined();
  });

  it("a grant left unreviewed past the org's window becomes one finding, listed and published without PHI", async () => {
    const { grantId, clientId } = await newGrant("Unreviewed");
    const before = published().length;
    // Not yet: inside the 24 h window.
    await raiseUnreviewedGrants(DEMO, new Date(Date.now() + 23 * 3_600_000));
    const later = new Date(Date.now() + 25 * 3_600_000);
    await raiseUnreviewedGrants(DEMO, later);
    // Another run raises it no second time.
    await raiseUnreviewedGrants(DEMO, new Date(later.getTime() + 60_000));
    // Every page: other suites leave grants of their own in the demo org, each raised by the same runs.
    const query = `type=break_glass_unreviewed&from=${new Date(Date.now() - 60_000).toISOString()}&to=${new Date(later.getTime() + 120_000).toISOString()}`;
    const token = await T("compliance@demo.example");
    const items: { subject: { grantId?: string } }[] = [];
    let cursor: string | undefined;
    do {
      const page = await api(
        "GET",
        `/security/events?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        { token },
      );
      expect(page.status, page.text).toBe(200);
      items.push(...page.json.items);
      cursor = page.json.nextCursor;
    } while (cursor);
    const mine = items.filter((item) => item.subject.grantId === grantId) as any[];
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      type: "break_glass_unreviewed",
      severity: "high",
      at: later.toISOString(),
    });
    // The grant id is the evidence; a client id never is (README, security findings).
    expect(mine[0].evidence).toEqual({ reviewHours: 24 });
    expect(JSON.stringify(mine[0])).not.toContain(clientId);
    const messages = published().slice(before);
    const sent = messages.filter((m) => m.subject?.grantId === grantId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ eventId: mine[0].eventId, type: "break_glass_unreviewed", orgId: DEMO });
    const raw = readPublished(stack.dir)
      .map((m) => `${m.subject} ${m.message}`)
      .join("\n");
    for (const phi of ["Zebulon", "Unreviewed", "patients.example", "crisis", "Emergency"])
      expect(raw).not.toContain(phi);
  });
});

describe("a publish that fails loses no finding", () => {
  afterEach(() => disarm());

  it("the finding is stored and listed, waits in the outbox, and the review job publishes it once", async () => {
    installFaultInjector();
    const at = new Date().toISOString();
    const event = finding({ at, type: "bulk_access", subject: { userId: "user-publish-fails" } });
    arm({ target: { service: "sns", operation: "PublishCommand", occurrence: 0 }, kind: "server" });
    expect(await raiseSecurityEvent(event)).toBe("raised");
    disarm();
    const outbox = await aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_SECURITY,
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": OUTBOX_PARTITION },
        ConsistentRead: true,
      }),
    );
    const waiting = (outbox.Items ?? []).filter(
      (item) => item.message.subject.userId === "user-publish-fails",
    );
    expect(waiting).toHaveLength(1);
    const eventId = waiting[0]?.message.eventId as string;
    expect(published().filter((m) => m.eventId === eventId)).toHaveLength(0);
    const listed = await api("GET", `/security/events?type=bulk_access&from=${at}&to=${at}`, {
      token: await T("compliance@demo.example"),
    });
    expect(listed.json.items.map((item: { eventId: string }) => item.eventId)).toContain(eventId);
    // A raise of the same finding again is a duplicate, and publishes nothing.
    expect(await raiseSecurityEvent(event)).toBe("duplicate");
    const { published: sent } = await publishPendingAlerts();
    expect(sent).toBeGreaterThanOrEqual(1);
    await publishPendingAlerts();
    expect(published().filter((m) => m.eventId === eventId)).toHaveLength(1);
  });
});

describe("401s as signals", () => {
  /** A GET with an invalid token from a loopback address of its own (the pipeline tallies per IP). */
  const probe = (localAddress: string) =>
    new Promise<{ status: number; requestId: string }>((resolve, reject) => {
      const req = request(
        `${stack.endpoints.apiUrl.replace("localhost", "127.0.0.1")}/clients`,
        {
          method: "GET",
          localAddress,
          servername: "localhost",
          ca: readFileSync(join(stack.dir, "tls", "cert.pem")),
          minVersion: "TLSv1.3",
          headers: { authorization: "Bearer aaaa.bbbb.cccc" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              requestId: JSON.parse(Buffer.concat(chunks).toString("utf8")).error.requestId,
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  const signalsFrom = async (ip: string, since: string) => {
    const out = await aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_SECURITY,
        KeyConditionExpression: "pk = :p AND sk >= :since",
        ExpressionAttributeValues: { ":p": "PLATFORM#SIGNALS", ":since": `SIGNAL#${since}` },
        ConsistentRead: true,
      }),
    );
    return ((out.Items ?? []) as Signal[]).filter((signal) => signal.ip?.endsWith(ip));
  };
  const loopback = () => `127.${randomInt(1, 255)}.${randomInt(0, 255)}.${randomInt(1, 255)}`;

  it("a 401 leaves an `unauthenticated` signal: IP and route, no org, never the token", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const ip = loopback();
    const { status, requestId } = await probe(ip);
    expect(status).toBe(401);
    const signals = await signalsFrom(ip, since);
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({ kind: "unauthenticated", route: "clients/list", requestId });
    expect(signals[0]).not.toHaveProperty("orgId");
    expect(JSON.stringify(signals)).not.toContain("aaaa.bbbb");
  });

  it("a flood of invalid tokens from one IP writes a bounded number of signals that still count it", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const ip = loopback();
    const sent = 40;
    for (let n = 0; n < sent; n++) expect((await probe(ip)).status).toBe(401);
    const signals = await signalsFrom(ip, since);
    // Within one minute: 5 single ones, then at 8, 16 and 32; across a minute's turn a few more.
    expect(signals.length).toBeLessThanOrEqual(2 * (5 + Math.log2(sent)));
    const counted = signals.reduce((total, signal) => total + (signal.count ?? 1), 0);
    expect(counted).toBeLessThanOrEqual(sent);
    expect(counted).toBeGreaterThanOrEqual(sent / 2);
  });
});

describe("a disabled account's request as a signal", () => {
  it("is refused (401) and leaves an `inactive_account` signal with its org and user", async () => {
    const admin = await T("admin@demo.example");
    const email = `signal.disabled.${randomInt(1e9)}@demo.example`;
    const userId = await inviteUser(api, admin, { email, role: "coach" });
    const token = await tokenFor(await T("coach1@demo.example"), { userId, email, role: "coach" });
    const current = (await api("GET", "/users", { token: admin })).json.items.find(
      (u: { userId: string }) => u.userId === userId,
    );
    const disabled = await api("PATCH", `/users/${userId}`, {
      token: admin,
      body: { version: current.version, status: "disabled" },
    });
    expect(disabled.status).toBe(200);
    const since = new Date(Date.now() - 1000).toISOString();
    const refused = await api("GET", "/clients", { token });
    expect([refused.status, refused.json.error.code]).toEqual([401, "ACCOUNT_DISABLED"]);
    const out = await aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_SECURITY,
        KeyConditionExpression: "pk = :p AND sk >= :since",
        ExpressionAttributeValues: { ":p": `ORG#${DEMO}#SIGNALS`, ":since": `SIGNAL#${since}` },
        ConsistentRead: true,
      }),
    );
    const mine = ((out.Items ?? []) as Signal[]).filter((s) => s.userId === userId);
    expect(mine).toEqual([
      expect.objectContaining({
        kind: "inactive_account",
        orgId: DEMO,
        userId,
        route: "clients/list",
        requestId: refused.headers["x-request-id"],
      }),
    ]);
    expect(JSON.stringify(mine)).not.toContain(email);
  });
});
