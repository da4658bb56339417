import { randomUUID } from "node:crypto";
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it, vi } from "vitest";
import { auditEntry, ChainWriter } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { DynamoState, localTime } from "../../shared/detection";
import { userItem } from "../../shared/people";
import { eventPartition, recordSignal, SIGNAL_SK_PREFIX } from "../../shared/security";
import { PLATFORM_SETTINGS_ID, SETTINGS_VALUE_ATTRIBUTE } from "../../shared/settings";
import { queryAll } from "../../shared/store";
import { settingsApply } from "../support/settings";
import { testStack } from "../support/stack";

/**
 * The detectors as the local stack runs them: real audit entries appended to the chains and real signals
 * recorded in the security table; the local poller of each table's stream hands them to `detectAudit` and
 * `detectSignals` (the same code Lambda runs), and the findings appear in the security table.
 */
testStack();
/**
 * How long a finding may take to appear: the detectors read the audit stream one batch at a time, and late in
 * a full run (thousands of entries from other files before this one's) they can be a minute or more behind.
 */
const WAIT_MS = 120_000;
// More than the stack default of 60 s: a test may wait WAIT_MS for a finding.
vi.setConfig({ testTimeout: 300_000 });
const writer = new ChainWriter();
const meta = (n: number | string) => ({
  requestId: `r-${n}-${randomUUID()}`,
  sourceIp: "127.0.0.1",
  userAgent: "vitest",
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Finding = {
  rule: string;
  type: string;
  severity: string;
  dedupeKey: string;
  subject: Record<string, unknown>;
  evidence: Record<string, unknown>;
};
const findingsOf = (orgId: string | undefined) =>
  queryAll<Finding & { sk: string }>({
    TableName: getConfig().TABLE_SECURITY,
    // Findings only: the partition also holds their once-per-dedupe-key markers (`EVENTID#`).
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :finding)",
    ExpressionAttributeValues: { ":pk": eventPartition(orgId), ":finding": "EVENT#" },
  });

async function finding(orgId: string | undefined, match: (finding: Finding) => boolean): Promise<Finding> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const found = (await findingsOf(orgId)).find(match);
    if (found) return found;
    await sleep(200);
  }
  const state = await queryAll({
    TableName: getConfig().TABLE_SECURITY,
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": `ORG#${orgId}#DETECT` },
  });
  throw new Error(`no such finding (detector state: ${state.length} items)`);
}

function reader(orgId: string, userId = `user-${randomUUID()}`) {
  const principal = { userId, orgId, role: "coach" as const };
  return {
    userId,
    read: (client: string, time?: number) => {
      const entry = auditEntry(
        principal,
        meta(client),
        "client.read",
        { type: "client", id: client, clientId: client },
        ["name"],
      );
      return writer.append(time === undefined ? entry : { ...entry, time: new Date(time).toISOString() });
    },
    append: (action: string, resource: { type: string; id: string; clientId?: string }) =>
      writer.append(auditEntry(principal, meta(action), action, resource, [])),
  };
}
const newOrg = () => `det-${randomUUID().slice(0, 8)}`;

describe("detectors on the local stack's streams", () => {
  it("break-glass: every grant, at once, from the first entries after the stack started (each consumer of the audit stream reads from its own position, not the witness's)", async () => {
    const orgId = newOrg();
    const lead = reader(orgId);
    await lead.append("breakglass.grant", { type: "grant", id: "grant-1", clientId: "c1" });
    const found = await finding(orgId, (f) => f.rule === "break_glass");
    expect(found).toMatchObject({
      type: "break_glass",
      severity: "high",
      subject: { userId: lead.userId, grantId: "grant-1" },
    });
  });

  it("after-hours access: five clients read at 03:00 in the org's zone (the platform default, New York) is a finding", async () => {
    const orgId = newOrg();
    const coach = reader(orgId);
    let night = Date.now() - 60_000;
    while (localTime(night, "America/New_York").clock.slice(0, 2) !== "03") night -= 600_000;
    for (let i = 0; i < 5; i++) await coach.read(`c${i}`, night + i * 1000);
    const found = await finding(orgId, (f) => f.rule === "after_hours_access");
    expect(found).toMatchObject({
      type: "after_hours_access",
      severity: "medium",
      subject: { userId: coach.userId },
      evidence: { count: 5, threshold: 5 },
    });
    expect(JSON.stringify(found)).not.toMatch(/"c[0-4]"/);
  });

  it("excessive access: sixteen clients in a day against a baseline of five (kept by the detectors themselves)", async () => {
    const orgId = newOrg();
    const coach = reader(orgId);
    const state = new DynamoState();
    const today = localTime(Date.now(), "America/New_York").day;
    for (let d = 1; d <= 14; d++) {
      const day = new Date(Date.parse(`${today}T12:00:00Z`) - d * 86_400_000).toISOString().slice(0, 10);
      await state.add(
        { partition: `ORG#${orgId}#DETECT`, key: `C#excessive_access#${day}#${coach.userId}` },
        ["1#a", "1#b", "1#c", "1#d", "1#e"],
        Math.floor(Date.now() / 1000) + 86_400,
      );
    }
    for (let i = 0; i < 16; i++) await coach.read(`c${i}`);
    const found = await finding(orgId, (f) => f.rule === "excessive_access");
    expect(found).toMatchObject({
      type: "excessive_access",
      subject: { userId: coach.userId, clientCount: 16 },
      evidence: { userBaseline: 5, orgBaseline: 5, factor: 3 },
    });
  });

  it("access by a disabled account: critical", async () => {
    const orgId = newOrg();
    const coach = reader(orgId);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_DIRECTORY,
        Item: userItem({
          userId: coach.userId,
          orgId,
          email: "gone@example.com",
          role: "coach",
          status: "disabled",
          version: 2,
          createdAt: past,
          updatedAt: past,
        }),
      }),
    );
    await coach.read("c1");
    const found = await finding(orgId, (f) => f.rule === "inactive_account_entry");
    expect(found).toMatchObject({
      type: "inactive_account_access",
      severity: "critical",
      evidence: { accountState: "disabled" },
    });
  });

  it("brute force from one address (signals), counted once however often a signal is delivered; repeated denials", async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 250)}`;
    const at = () => new Date().toISOString();
    const first = { kind: "unauthenticated" as const, at: at(), ip, requestId: `bf-${ip}-0` };
    await recordSignal(first);
    for (let i = 1; i < 9; i++)
      await recordSignal({ kind: "unauthenticated", at: at(), ip, requestId: `bf-${ip}-${i}` });
    // The same signal written again (a retried put): the same item, never a second INSERT: still nine.
    await recordSignal(first);
    await sleep(3000);
    expect((await findingsOf(undefined)).filter((f) => f.subject.ip === ip)).toHaveLength(0);
    await recordSignal({ kind: "sign_in_failed", at: at(), ip, requestId: `bf-${ip}-9` });
    expect(await finding(undefined, (f) => f.rule === "brute_force_ip" && f.subject.ip === ip)).toMatchObject(
      {
        type: "brute_force",
        evidence: { threshold: 10 },
      },
    );
    expect(SIGNAL_SK_PREFIX).toBe("SIGNAL#");

    const orgId = newOrg();
    for (let i = 0; i < 5; i++)
      await recordSignal({
        kind: "denied",
        at: at(),
        orgId,
        userId: "prober",
        route: "clients/get",
        reason: "policy",
      });
    expect(await finding(orgId, (f) => f.rule === "repeated_denials")).toMatchObject({
      subject: { userId: "prober" },
      evidence: { count: 5 },
    });
  });
});

describe("platform findings (no org) under the platform's stored settings", () => {
  it("an IP's failures and a failed sign-in's user (its Cognito sub, no org) are judged by the platform default document, not the built-in one", async () => {
    const table = getConfig().TABLE_SETTINGS;
    await aws("dynamo").send(
      new PutCommand({
        TableName: table,
        Item: {
          id: PLATFORM_SETTINGS_ID,
          [SETTINGS_VALUE_ATTRIBUTE]: JSON.stringify({ detectors: { bruteForceFailures: 3 } }),
          version: 1,
        },
      }),
    );
    try {
      await settingsApply();
      const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
      const sub = randomUUID();
      for (let i = 0; i < 3; i++)
        await recordSignal({
          kind: "sign_in_failed",
          at: new Date().toISOString(),
          ip,
          userId: sub,
          requestId: `pf-${ip}-${i}`,
        });
      const byIp = await finding(undefined, (f) => f.rule === "brute_force_ip" && f.subject.ip === ip);
      expect(byIp.evidence).toMatchObject({ count: 3, threshold: 3 });
      const byUser = await finding(
        undefined,
        (f) => f.rule === "brute_force_user" && f.subject.userId === sub,
      );
      expect(byUser).toMatchObject({ type: "brute_force", evidence: { count: 3, threshold: 3 } });
      expect(byUser).not.toHaveProperty("orgId");
    } finally {
      await aws("dynamo").send(new DeleteCommand({ TableName: table, Key: { id: PLATFORM_SETTINGS_ID } }));
      await settingsApply();
    }
  });
});
