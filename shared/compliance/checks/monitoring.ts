import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../../aws";
import { getConfig } from "../../config";
import { baselineSetKey, DynamoState, detectorPartition, localTime, member } from "../../detection";
import { listSecurityEvents, OUTBOX_PARTITION, type StoredSecurityEvent } from "../../security";
import {
  type CheckContext,
  type CheckDefinition,
  type Evidence,
  evidenceText,
  failed,
  notEvaluated,
  passed,
} from "../check";
import {
  type GrantRecord,
  grantsById,
  grantsSince,
  isPhiAccess,
  periodTrail,
  type TrailEntry,
} from "../trail";

/**
 * Checks over monitoring and emergency access (§164.308(a)(1)(ii)(D) activity review, §164.308(a)(6)
 * incident response, §164.312(a)(2)(ii) emergency access): break-glass grants reviewed in time by someone
 * else and used only while granted, findings triaged, the detectors live and their alarms delivered.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** A high or critical finding open longer than this is untriaged. */
export const FINDING_TRIAGE_DAYS = 7;
/** Stream delivery plus a detector batch: a PHI access older than this must show in the detectors' counts. */
export const DETECTION_MAX_LAG_MS = 15 * MINUTE_MS;
/** PHI accesses sampled to prove the detectors saw them (the newest past the lag bound). */
const DETECTION_SAMPLE = 5;
/** The alerts job drains the outbox every 15 minutes: a finding waiting longer was not delivered. */
export const ALERT_MAX_WAIT_MS = 30 * MINUTE_MS;
/** The longest a break-glass grant can last (BREAK_GLASS_MINUTES is at most 240): grants this old may cover the period's first accesses. */
const GRANT_LOOKBACK_MS = DAY_MS;
/** Ids listed in evidence (the rest are counted); ids carried to the next report. */
const LISTED = 10;
const CARRIED = 500;

const trailOf = (context: CheckContext) => periodTrail(context.orgId, context.period, context.memo);

/** A grant's review outcome against its window: when its review was due and whether it came in time from someone else. */
export function reviewVerdict(grant: GrantRecord, reviewHours: number) {
  const dueAt = Date.parse(grant.grantedAt) + reviewHours * HOUR_MS;
  const reviewed = grant.status === "reviewed" && grant.reviewedAt !== undefined;
  const inTime = reviewed && Date.parse(grant.reviewedAt as string) <= dueAt;
  const byAnother = reviewed && Boolean(grant.reviewedBy) && grant.reviewedBy !== grant.userId;
  return { dueAt, reviewed, ok: inTime && byAnother, selfReviewed: reviewed && !byAnother };
}

/** Break-glass accesses of the period that no grant of that user to that client covered at the time. */
export function accessesOutsideGrants(entries: readonly TrailEntry[], grants: readonly GrantRecord[]) {
  const byUserClient = new Map<string, GrantRecord[]>();
  for (const grant of grants) {
    const key = `${grant.userId}\n${grant.clientId}`;
    byUserClient.set(key, [...(byUserClient.get(key) ?? []), grant]);
  }
  const breakGlass = entries.filter(
    (entry) => entry.breakGlass && entry.outcome === "success" && entry.actorType === "user",
  );
  const outside = breakGlass.filter((entry) =>
    entry.clients.some(
      (clientId) =>
        !(byUserClient.get(`${entry.actorId}\n${clientId}`) ?? []).some(
          (grant) => grant.grantedAt <= entry.time && entry.time <= grant.expiresAt,
        ),
    ),
  );
  return { breakGlass, outside };
}

type ReviewCarry = { checkedTo: string; overdue: string[] };
type TriageCarry = { reviewedAt?: string; from: string };

/** The latest time a compliance officer or admin listed the org's findings (an audited read), in the period. */
const FINDING_REVIEWERS = new Set(["compliance_officer", "admin"]);
function lastFindingReview(entries: readonly TrailEntry[]): string | undefined {
  return entries
    .filter(
      (entry) =>
        entry.action === "security.events.list" &&
        entry.outcome === "success" &&
        FINDING_REVIEWERS.has(entry.role),
    )
    .map((entry) => entry.time)
    .sort()
    .at(-1);
}

async function findingsBetween(orgId: string, from: string, to: string): Promise<StoredSecurityEvent[]> {
  const found: StoredSecurityEvent[] = [];
  let after: string | undefined;
  do {
    const page = await listSecurityEvents(orgId, { from, to, limit: 100, ...(after && { after }) });
    found.push(...page.items);
    after = page.last;
  } while (after && found.length < 10_000);
  return found;
}

export const monitoringChecks: readonly CheckDefinition[] = [
  {
    id: "breakglass.reviewed-in-time",
    title: "Every break-glass grant was reviewed by another person within the review window",
    hipaa: "164.312(a)(2)(ii)",
    layer: "application",
    severity: "high",
    weight: 3,
    remediation:
      "A compliance officer other than the grantee reviews each listed grant now (POST /break-glass/{grantId}/review with a note) and records why the review was late; check that the security reviews job raises break_glass_unreviewed findings and that someone receives them.",
    evaluate: async ({ orgId, period, settings, carried }) => {
      const hours = settings.detectors.breakGlassReviewHours;
      const previous = carried as ReviewCarry | undefined;
      // Windows that ended in (last report's end, this period's end]: the grants made up to `hours` before.
      // With no previous report, every grant of the org (grants are rare). Overdue ones carried stay
      // failing until they are reviewed.
      const since = previous
        ? new Date(Date.parse(previous.checkedTo) - hours * HOUR_MS).toISOString()
        : undefined;
      const [recent, carriedGrants] = await Promise.all([
        grantsSince(orgId, since),
        grantsById(orgId, previous?.overdue ?? []),
      ]);
      const end = Date.parse(period.to);
      const start = previous ? Date.parse(previous.checkedTo) : Number.NEGATIVE_INFINITY;
      const due = recent.filter((grant) => {
        const dueAt = reviewVerdict(grant, hours).dueAt;
        return dueAt > start && dueAt <= end;
      });
      const missed = due.filter((grant) => !reviewVerdict(grant, hours).ok);
      const stillPending = carriedGrants.filter((grant) => grant.status !== "reviewed");
      const failing = [
        ...new Map([...missed, ...stillPending].map((grant) => [grant.grantId, grant])).values(),
      ];
      const overdue = failing.filter((grant) => grant.status !== "reviewed").map((grant) => grant.grantId);
      const evidence: Evidence = {
        reviewHours: hours,
        grantsDue: due.length,
        reviewedInTime: due.length - missed.length,
        unreviewed: failing.filter((grant) => grant.status !== "reviewed").length,
        reviewedLate: missed.filter((grant) => {
          const verdict = reviewVerdict(grant, hours);
          return verdict.reviewed && !verdict.selfReviewed;
        }).length,
        selfReviewed: missed.filter((grant) => reviewVerdict(grant, hours).selfReviewed).length,
        carriedOverdue: previous?.overdue.length ?? 0,
        failingGrants: failing.slice(0, LISTED).map((grant) => grant.grantId),
      };
      const carry: ReviewCarry = { checkedTo: period.to, overdue: overdue.slice(0, CARRIED) };
      return failing.length === 0 ? passed(evidence, carry) : failed(evidence, undefined, carry);
    },
  },
  {
    id: "breakglass.access-within-grant",
    title: "Every break-glass access of the period fell inside an active grant of that user to that client",
    hipaa: "164.312(a)(2)(ii)",
    layer: "application",
    severity: "critical",
    weight: 2,
    remediation:
      "An access marked break-glass with no grant covering it means the access gate failed: treat as a security incident, review the listed entries (GET /audit/entries) and the code path that admitted them.",
    evaluate: async (context) => {
      const trail = await trailOf(context);
      const since = new Date(Date.parse(context.period.from) - GRANT_LOOKBACK_MS).toISOString();
      const grants = await grantsSince(context.orgId, since);
      const { breakGlass, outside } = accessesOutsideGrants(trail.entries, grants);
      const evidence: Evidence = {
        breakGlassAccesses: breakGlass.length,
        grantsConsidered: grants.length,
        outsideGrant: outside.length,
        outsideGrantAt: outside.slice(0, LISTED).map((entry) => `${entry.chain}#${entry.seq}`),
      };
      return outside.length === 0 ? passed(evidence) : failed(evidence);
    },
  },
  {
    id: "security.findings-triaged",
    title: "No high or critical security finding stays unreviewed for more than 7 days",
    hipaa: "164.308(a)(6)(ii)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "A compliance officer or admin reviews the org's findings (GET /security/events), responds to each high or critical one and documents the outcome; set up a weekly review at least.",
    /*
     * Findings have no open/closed state today. What the product records is that a compliance officer or
     * admin read the org's findings (`security.events.list`, audited): a finding is taken as triaged once
     * such a review happened after it was raised. Open and stale: high or critical, raised more than 7
     * days ago, and no review since. Incremental: the last review time and where to look from are carried.
     */
    evaluate: async (context) => {
      const { orgId, now, period } = context;
      const previous = context.carried as TriageCarry | undefined;
      const trail = await trailOf(context);
      const reviewedAt = [previous?.reviewedAt, lastFindingReview(trail.entries)]
        .filter((time): time is string => Boolean(time))
        .sort()
        .at(-1);
      const staleBefore = new Date(now.getTime() - FINDING_TRIAGE_DAYS * DAY_MS).toISOString();
      const from =
        previous?.from ?? new Date(Date.parse(period.from) - FINDING_TRIAGE_DAYS * DAY_MS).toISOString();
      const findings = from < staleBefore ? await findingsBetween(orgId, from, staleBefore) : [];
      const serious = findings.filter(
        (finding) => finding.severity === "high" || finding.severity === "critical",
      );
      const open = serious.filter((finding) => !reviewedAt || finding.at > reviewedAt);
      const evidence: Evidence = {
        triageDays: FINDING_TRIAGE_DAYS,
        lastReviewAt: reviewedAt ?? null,
        seriousFindingsConsidered: serious.length,
        openOlderThanLimit: open.length,
        openFindings: open.slice(0, LISTED).map((finding) => finding.eventId),
      };
      // Next time: from the oldest finding still open (or where this look ended).
      const oldestOpen = open.map((finding) => finding.at).sort()[0];
      const carry: TriageCarry = { ...(reviewedAt && { reviewedAt }), from: oldestOpen ?? staleBefore };
      return open.length === 0 ? passed(evidence, carry) : failed(evidence, undefined, carry);
    },
  },
  {
    id: "security.monitoring-live",
    title: "The detectors counted the period's recent PHI accesses",
    hipaa: "164.308(a)(1)(ii)(D)",
    layer: "application",
    severity: "high",
    weight: 2,
    remediation:
      "Check the detection stream function (audit table stream): its iterator age, errors and event source mapping in CloudWatch. Until it runs, no excessive, bulk or after-hours access is alarmed.",
    evaluate: async (context) => {
      const trail = await trailOf(context);
      const cutoff = new Date(context.now.getTime() - DETECTION_MAX_LAG_MS).toISOString();
      // The newest accesses past the lag bound: the `excessive_access_lists` rule counts every client of
      // every user's PHI access in its day's set.
      const sample = trail.entries
        .filter((entry) => isPhiAccess(entry) && entry.actorType === "user" && entry.time <= cutoff)
        .slice(-DETECTION_SAMPLE);
      if (sample.length === 0)
        return notEvaluated(
          `No user PHI access older than ${DETECTION_MAX_LAG_MS / MINUTE_MS} minutes in the period to look for in the detectors' counts.`,
          { phiAccessesSampled: 0 },
        );
      const state = new DynamoState();
      const zone = context.settings.businessHours.timeZone;
      const partition = detectorPartition(context.orgId);
      const unseen: TrailEntry[] = [];
      for (const entry of sample) {
        const at = Date.parse(entry.time);
        const members = await state.members({
          partition,
          key: baselineSetKey("excessive_access_lists", localTime(at, zone).day, entry.actorId),
        });
        if (!entry.clients.every((clientId) => members.has(member(at, clientId)))) unseen.push(entry);
      }
      const evidence: Evidence = {
        phiAccessesSampled: sample.length,
        counted: sample.length - unseen.length,
        newestSampledAt: sample.at(-1)?.time ?? null,
        maxLagMinutes: DETECTION_MAX_LAG_MS / MINUTE_MS,
        notCountedAt: unseen.map((entry) => `${entry.chain}#${entry.seq}`),
      };
      return unseen.length === 0 ? passed(evidence) : failed(evidence);
    },
  },
  {
    id: "security.alerts-delivered",
    title: "Every security finding of the org reached the alarm topic within 30 minutes",
    hipaa: "164.308(a)(6)(ii)",
    layer: "application",
    severity: "medium",
    weight: 2,
    remediation:
      "Findings are waiting in the outbox: check the alarm topic (SNS) and the securityReviews job that publishes what is left, and that the topic has a confirmed subscription.",
    evaluate: async ({ orgId, now }) => {
      const before = new Date(now.getTime() - ALERT_MAX_WAIT_MS).toISOString();
      // The outbox is platform-wide and short (items leave once published): those older than the bound.
      const waiting: { sk: string; message?: { orgId?: string; eventId?: string } }[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await aws("dynamo").send(
          new QueryCommand({
            TableName: getConfig().TABLE_SECURITY,
            KeyConditionExpression: "pk = :p AND sk < :before",
            ExpressionAttributeValues: { ":p": OUTBOX_PARTITION, ":before": before },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        waiting.push(...((out.Items ?? []) as typeof waiting));
        start = out.LastEvaluatedKey;
      } while (start);
      const ours = waiting.filter((item) => item.message?.orgId === orgId);
      const evidence: Evidence = {
        maxWaitMinutes: ALERT_MAX_WAIT_MS / MINUTE_MS,
        undelivered: ours.length,
        oldestWaitingSince: ours[0] ? evidenceText(ours[0].sk.split("#")[0]) : null,
        undeliveredFindings: ours.slice(0, LISTED).map((item) => evidenceText(item.message?.eventId)),
      };
      return ours.length === 0 ? passed(evidence) : failed(evidence);
    },
  },
];
