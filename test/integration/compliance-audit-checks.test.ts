import { randomUUID } from "node:crypto";
import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it, vi } from "vitest";
import { GRANT_RECORD_PREFIX } from "../../shared/access";
import { type AuditEntry, auditEntry, recordBreaks } from "../../shared/audit";
import { disclosurePartition } from "../../shared/audit/chain";
import { aws } from "../../shared/aws";
import { ReportBodySchema } from "../../shared/compliance";
import { auditChecks } from "../../shared/compliance/checks/audit";
import { monitoringChecks } from "../../shared/compliance/checks/monitoring";
import { getConfig } from "../../shared/config";
import { baselineSetKey, detectorPartition, localTime } from "../../shared/detection";
import { OUTBOX_PARTITION, raiseSecurityEvent } from "../../shared/security";
import { tenantSettings } from "../../shared/settings";
import { queryAll } from "../../shared/store";
import {
  appendAndWait,
  breakAuditChain,
  leaveGrantUnreviewed,
  putInGoodOrder,
  reportFor,
} from "../support/compliance";
import { testStack } from "../support/stack";

// These tests wait for the stream consumers (witness, detectors), which late in a full run can be minutes
// behind (test/support/compliance.ts waits up to two minutes for each): more than the stack default of 60 s.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/**
 * The audit-trail, monitoring and break-glass checks against the local stack: an org in good order passes
 * every one of them with evidence; an audit entry altered after the latest checkpoint fails exactly the
 * chain check; a grant left unreviewed past its window fails exactly the review check, and keeps failing
 * in the next report (carried) until it is reviewed. The full report's score drops with each.
 */
testStack();
const MINE = [...auditChecks, ...monitoringChecks].map((check) => check.id);
const MINUTE_MS = 60_000;

const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };
const orgInGoodOrder = (options: { daily?: boolean } = {}) =>
  putInGoodOrder(`cmp-${randomUUID().slice(0, 8)}`, options);
type GoodOrg = Awaited<ReturnType<typeof orgInGoodOrder>>;
const appendSeen = (org: GoodOrg, entry: AuditEntry) => appendAndWait(org.orgId, entry);
const coachOf = (orgId: string) => ({ userId: "coach-1", orgId, role: "coach" as const });

const failing = (body: Awaited<ReturnType<typeof reportFor>>["body"]) =>
  body.checks.filter((check) => MINE.includes(check.id) && check.status !== "pass").map((check) => check.id);

describe("the audit, monitoring and break-glass checks on the local stack", () => {
  it("an org in good order passes every one of them, with evidence", async () => {
    const { orgId, now } = await orgInGoodOrder();
    const { body, status } = await reportFor(orgId, now);
    expect(ReportBodySchema.safeParse(body).success).toBe(true);
    expect(failing(body)).toEqual([]);
    for (const id of MINE) expect(Object.keys(status(id)?.evidence ?? {}).length).toBeGreaterThan(0);
    expect(status("audit.chain-verifies")?.evidence).toMatchObject({ intact: true, fromCheckpoint: 1 });
    // From the checkpoint: its pinned head (read to check the pin) and what came after it (two reads and
    // the daily verification's own entry), never the history before it.
    expect(status("audit.chain-verifies")?.evidence.entriesVerified).toBe(4);
    // Pointers under the checkpoint are read here; those above it the verification from it checked.
    expect(status("audit.disclosure-index-complete")?.evidence).toMatchObject({
      pointersMissing: 0,
      checkedHere: 3,
      checkedByVerification: 2,
    });
    expect(status("breakglass.reviewed-in-time")?.evidence).toMatchObject({
      grantsDue: 1,
      reviewedInTime: 1,
    });
    expect(status("security.monitoring-live")?.evidence).toMatchObject({ counted: 5 });
    expect(status("audit.daily-verification")?.evidence).toMatchObject({ latestIntact: true });
    // The activity: the PHI reads by day and role, and the grant (granted before the period: not listed).
    expect(body.activity.phiAccessesByDay.reduce((total, row) => total + row.count, 0)).toBe(5);
    expect(body.activity.phiAccessesByDay.every((row) => row.role === "coach")).toBe(true);
  });

  it("an audit entry altered after the latest checkpoint fails exactly the chain check, and the score drops", async () => {
    const good = await orgInGoodOrder();
    const broken = await orgInGoodOrder();
    const victim = await breakAuditChain(broken.orgId);
    const before = await reportFor(good.orgId, good.now);
    const after = await reportFor(broken.orgId, broken.now);
    expect(failing(after.body)).toEqual(["audit.chain-verifies"]);
    const check = after.status("audit.chain-verifies");
    expect(check?.remediation).toContain("incident");
    expect(check?.evidence).toMatchObject({
      intact: false,
      problem: "hash",
      problemChain: victim.chain,
      problemSeq: victim.seq,
    });
    expect(after.body.score.value).toBeLessThan(before.body.score.value);
    expect(after.body.score.band).toBe("at_risk");
  });

  it("a grant left unreviewed past its window fails exactly the review check, until it is reviewed", async () => {
    const { orgId, now } = await orgInGoodOrder();
    const clean = await reportFor(orgId, now);
    const grantId = await leaveGrantUnreviewed(orgId, now);
    const first = await reportFor(orgId, now);
    expect(failing(first.body)).toEqual(["breakglass.reviewed-in-time"]);
    expect(first.status("breakglass.reviewed-in-time")).toMatchObject({
      remediation: expect.stringContaining("review"),
      evidence: { unreviewed: 1, failingGrants: [grantId] },
    });
    expect(first.body.score.value).toBeLessThan(clean.body.score.value);

    // The next report's period starts after the grant's window ended: the grant is carried and still fails.
    const later = new Date(now.getTime() + 60 * MINUTE_MS);
    const carried = await reportFor(orgId, later, { previous: first });
    expect(carried.body.period.from).toBe(first.body.period.to);
    expect(carried.status("breakglass.reviewed-in-time")).toMatchObject({
      status: "fail",
      evidence: { grantsDue: 0, carriedOverdue: 1, unreviewed: 1 },
    });

    await review(orgId, grantId, later);
    const reviewed = await reportFor(orgId, later, { previous: first });
    expect(reviewed.status("breakglass.reviewed-in-time")?.status).toBe("pass");
  });
});

/** Each other check against its own bad state: it fails alone, with its remediation. */
const BAD_STATES: { check: string; breaks: (org: GoodOrg) => Promise<unknown>; daily?: false }[] = [
  {
    check: "audit.disclosure-index-complete",
    // A pointer removed under an entry before the checkpoint: the verification from it no longer reads it.
    breaks: async ({ orgId, before }) => {
      const partition = disclosurePartition(orgId, before[0]?.clientId as string);
      const [pointer] = await queryAll<{ pk: string; sk: string }>({
        TableName: getConfig().TABLE_RECORDS,
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": partition },
      });
      await aws("dynamo").send(
        new DeleteCommand({ TableName: getConfig().TABLE_RECORDS, Key: { pk: partition, sk: pointer?.sk } }),
      );
    },
  },
  {
    check: "audit.phi-access-attributed",
    breaks: (org) =>
      appendSeen(
        org,
        auditEntry(coachOf(org.orgId), meta, "client.read", { type: "client", id: "c9", clientId: "c9" }, [
          "name",
        ]),
      ),
  },
  {
    check: "breakglass.access-within-grant",
    breaks: (org) =>
      appendSeen(
        org,
        auditEntry(
          coachOf(org.orgId),
          meta,
          "client.read",
          { type: "client", id: "c9", clientId: "c9" },
          ["name"],
          {
            relationship: "break_glass",
            breakGlass: true,
          },
        ),
      ),
  },
  {
    check: "audit.witness-healthy",
    breaks: ({ before }) =>
      recordBreaks(
        new Map([[before[0]?.chain as string, { seq: before[0]?.seq as number, problem: "hash" }]]),
      ),
  },
  { check: "audit.daily-verification", breaks: async () => undefined, daily: false },
  {
    check: "security.monitoring-live",
    // The detectors' counts of the day are gone: the accesses were never counted.
    breaks: async ({ orgId, after }) => {
      const zone = (await tenantSettings(orgId)).businessHours.timeZone;
      const day = localTime(Date.parse(after[0]?.time as string), zone).day;
      await aws("dynamo").send(
        new DeleteCommand({
          TableName: getConfig().TABLE_SECURITY,
          Key: { pk: detectorPartition(orgId), sk: baselineSetKey("excessive_access_lists", day, "coach-1") },
        }),
      );
    },
  },
  {
    check: "security.alerts-delivered",
    breaks: async ({ orgId }) => {
      const at = new Date(Date.now() - 40 * MINUTE_MS).toISOString();
      await aws("dynamo").send(
        new PutCommand({
          TableName: getConfig().TABLE_SECURITY,
          Item: {
            pk: OUTBOX_PARTITION,
            sk: `${at}#cmp-${orgId}`,
            message: { orgId, eventId: `cmp-${orgId}` },
          },
        }),
      );
    },
  },
];

describe("each check against its own bad state", () => {
  for (const { check, breaks, daily } of BAD_STATES)
    it(`${check} fails alone, with its remediation`, async () => {
      const org = await orgInGoodOrder(daily === false ? { daily } : {});
      await breaks(org);
      const { body, status } = await reportFor(org.orgId, org.now, {
        checks: [...auditChecks, ...monitoringChecks],
      });
      expect(failing(body)).toEqual([check]);
      expect(status(check)?.remediation).toBeTruthy();
      if (check === "security.alerts-delivered")
        await aws("dynamo").send(
          new DeleteCommand({
            TableName: getConfig().TABLE_SECURITY,
            Key: {
              pk: OUTBOX_PARTITION,
              sk: `${String(status(check)?.evidence.oldestWaitingSince)}#cmp-${org.orgId}`,
            },
          }),
        );
    });

  it("a pointer removed above the checkpoint fails the disclosure check through the verification from it (and the chain check)", async () => {
    const org = await orgInGoodOrder();
    const partition = disclosurePartition(org.orgId, org.after[0]?.clientId as string);
    const [pointer] = await queryAll<{ pk: string; sk: string }>({
      TableName: getConfig().TABLE_RECORDS,
      KeyConditionExpression: "pk = :p",
      ExpressionAttributeValues: { ":p": partition },
    });
    await aws("dynamo").send(
      new DeleteCommand({ TableName: getConfig().TABLE_RECORDS, Key: { pk: partition, sk: pointer?.sk } }),
    );
    const { body, status } = await reportFor(org.orgId, org.now, {
      checks: [...auditChecks, ...monitoringChecks],
    });
    expect(failing(body)).toEqual(["audit.chain-verifies", "audit.disclosure-index-complete"]);
    expect(status("audit.disclosure-index-complete")?.evidence).toMatchObject({
      pointersMissing: 1,
      missingAt: [`${org.after[0]?.chain}#${org.after[0]?.seq}`],
    });
  });

  it("security.findings-triaged fails on a high finding older than 7 days that nobody reviewed, and passes once an officer has", async () => {
    const org = await orgInGoodOrder();
    const at = new Date(org.now.getTime() - 7.5 * 86_400_000).toISOString();
    await raiseSecurityEvent({
      type: "bulk_access",
      severity: "high",
      orgId: org.orgId,
      at,
      window: { from: at, to: at },
      subject: { userId: "coach-1" },
      rule: "bulk_access",
      evidence: { count: 50 },
      dedupeKey: `cmp-${randomUUID()}`,
    });
    const checks = [...auditChecks, ...monitoringChecks];
    const unreviewed = await reportFor(org.orgId, org.now, { checks });
    expect(failing(unreviewed.body)).toEqual(["security.findings-triaged"]);
    expect(unreviewed.status("security.findings-triaged")?.evidence).toMatchObject({ openOlderThanLimit: 1 });

    const officer = { userId: "officer-1", orgId: org.orgId, role: "compliance_officer" as const };
    await appendSeen(
      org,
      auditEntry(officer, meta, "security.events.list", { type: "security-events", id: "*" }, []),
    );
    const reviewed = await reportFor(org.orgId, org.now, { checks });
    expect(reviewed.status("security.findings-triaged")).toMatchObject({
      status: "pass",
      evidence: { openOlderThanLimit: 0 },
    });
  });
});

async function review(orgId: string, grantId: string, at: Date) {
  await aws("dynamo").send(
    new UpdateCommand({
      TableName: getConfig().TABLE_RECORDS,
      Key: { pk: `ORG#${orgId}`, sk: `${GRANT_RECORD_PREFIX}${grantId}` },
      UpdateExpression: "SET #status = :reviewed, reviewedBy = :by, reviewedAt = :at",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":reviewed": "reviewed", ":by": "officer-1", ":at": at.toISOString() },
    }),
  );
}
