import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type Report, ReportSchema } from "../../shared/compliance";
import { produceReport } from "../../shared/compliance/produce";
import { BUILT_IN_SETTINGS } from "../../shared/settings";
import { breakAuditChain, leaveGrantUnreviewed, putInGoodOrder } from "../support/compliance";
import { type EnrolledUser, enrolledUser, takeAwayMfa } from "../support/compliance-people";
import { pendingReport, reportJob } from "../support/reports";
import { putOrgSettings } from "../support/settings";
import { testStack } from "../support/stack";

// These tests wait for the stream consumers (witness, detectors), which late in a full run can be minutes
// behind (test/support/compliance.ts waits up to two minutes for each): more than the stack default of 60 s.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/**
 * The acceptance test, through the report job's own code (`produceReport`: checks, score, HTML,
 * signature, Object Lock bucket, audit entry): an org in good order gets a report; then someone alters an
 * audit entry, a break-glass grant goes unreviewed past its window and a user turns MFA off. The next report
 * fails exactly those three checks, each with its remediation, and its score drops.
 */
const stack = testStack();
const clientId = stack.endpoints.userPoolClientId;
const orgId = `acceptance-${randomUUID().slice(0, 8)}`;
const BROKEN = ["audit.chain-verifies", "breakglass.reviewed-in-time", "identity.mfa-enrolled"];
const MINUTE = 60_000;

let coach: EnrolledUser;
let baseline: Report;

const produced = async (now: Date) => {
  const result = await produceReport(orgId, await pendingReport(orgId), { ...reportJob(), now });
  return { ...result, report: ReportSchema.parse(JSON.parse(result.documents?.json as string)) };
};
const failing = (report: Report) =>
  report.checks.filter((check) => check.status === "fail").map((check) => check.id);

beforeAll(async () => {
  // The org has recorded its BAA (one more failure less to reason about in the baseline).
  await putOrgSettings(orgId, {
    ...BUILT_IN_SETTINGS,
    baa: { acceptedAt: new Date().toISOString(), acceptedBy: "admin-1", version: "2026-01" },
  });
  [coach] = await Promise.all([
    enrolledUser(clientId, orgId, "coach"),
    enrolledUser(clientId, orgId, "compliance_officer"),
    enrolledUser(clientId, orgId, "admin"),
  ]);
  const { now } = await putInGoodOrder(orgId);
  baseline = (await produced(now)).report;
}, 240_000);

describe("a report after the audit chain is broken, a grant left unreviewed and MFA turned off", () => {
  it("fails exactly those three checks, with remediation, and the score drops", async () => {
    for (const id of BROKEN) expect(failing(baseline), id).not.toContain(id);
    // The next report's clock: a minute past the baseline's at least, so its period holds the grant's deadline.
    const nextNow = new Date(Date.now() + 17 * MINUTE);
    await breakAuditChain(orgId);
    await leaveGrantUnreviewed(orgId, nextNow, 0.5 / 60); // its review window ended 30 s before the report
    const restore = await takeAwayMfa(clientId, coach);
    try {
      const next = await produced(nextNow);
      const newlyFailing = failing(next.report).filter((id) => !failing(baseline).includes(id));
      expect(newlyFailing.sort()).toEqual([...BROKEN].sort());
      // Nothing else changed its verdict either way.
      expect(failing(next.report).filter((id) => !BROKEN.includes(id))).toEqual(failing(baseline));
      for (const id of BROKEN) {
        const check = next.report.checks.find((candidate) => candidate.id === id);
        expect(check?.remediation, id).toMatch(/\w{10,}/);
      }
      expect(
        next.report.checks.find((check) => check.id === "identity.mfa-enrolled")?.evidence.notEnrolled,
      ).toEqual([coach.userId]);
      expect(next.report.score.value).toBeLessThan(baseline.score.value);
      expect(next.report.score.band).toBe("at_risk");
      expect(next.report.previous).toEqual({ reportId: baseline.reportId, score: baseline.score.value });
      // Critical checks newly failing: the alarm topic is told, by ids and scores only.
      expect(next.alert?.newlyFailedCritical).toEqual(
        expect.arrayContaining(["audit.chain-verifies", "identity.mfa-enrolled"]),
      );
      // The HTML lists the failed checks first, with their remediation.
      const html = next.documents?.html as string;
      const failedTable = html.slice(html.indexOf('id="failed"'), html.indexOf('id="not-evaluated-title"'));
      expect(failedTable.length).toBeGreaterThan(0);
      for (const id of BROKEN) expect(failedTable).toContain(id);
    } finally {
      await restore();
    }
  }, 240_000);
});
