import { GRANT_RECORD_PREFIX, type GrantReviewRecord } from "../../shared/access";
import { getConfig } from "../../shared/config";
import { createJob, type JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { listOrgs } from "../../shared/people";
import { publishPendingAlerts, raiseSecurityEvent } from "../../shared/security";
import { tenantSettings } from "../../shared/settings";
import { queryAll } from "../../shared/store";

const HOUR_MS = 3_600_000;

/** An org's break-glass grants still waiting for their review (the records of reviewed ones are skipped). */
function pendingGrants(orgId: string): Promise<GrantReviewRecord[]> {
  return queryAll<GrantReviewRecord>({
    TableName: getConfig().TABLE_RECORDS,
    KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
    FilterExpression: "#status = :pending",
    ExpressionAttributeNames: { "#status": "status" },
    ExpressionAttributeValues: {
      ":p": `ORG#${orgId}`,
      ":prefix": GRANT_RECORD_PREFIX,
      ":pending": "pending",
    },
  });
}

/**
 * Raises a `break_glass_unreviewed` finding for every grant of an org still pending `breakGlassReviewHours`
 * (the org's setting now, so a shorter window applies to grants already open) after it was granted: once
 * per grant, whatever the number of runs (its dedupe key is the grant).
 */
export async function raiseUnreviewedGrants(orgId: string, now = new Date()): Promise<number> {
  const hours = (await tenantSettings(orgId)).detectors.breakGlassReviewHours;
  let raised = 0;
  for (const grant of await pendingGrants(orgId)) {
    const dueAt = Date.parse(grant.grantedAt) + hours * HOUR_MS;
    if (dueAt > now.getTime()) continue;
    const outcome = await raiseSecurityEvent({
      type: "break_glass_unreviewed",
      severity: "high",
      orgId,
      at: now.toISOString(),
      window: { from: grant.grantedAt, to: new Date(dueAt).toISOString() },
      subject: { userId: grant.userId, grantId: grant.grantId },
      rule: "break_glass_unreviewed",
      evidence: { reviewHours: hours },
      dedupeKey: `break_glass_unreviewed#${grant.grantId}`,
    });
    if (outcome === "raised") raised++;
  }
  return raised;
}

/**
 * Every 15 minutes: the unreviewed break-glass grants of every registered org become findings, and the
 * findings whose publish to the alarm topic failed (the outbox) are published again.
 */
export async function run(
  _event: unknown,
  _job: JobInvocation,
  now = new Date(),
): Promise<{ orgs: number; raised: number; published: number; pending: number }> {
  const orgs = await listOrgs();
  let raised = 0;
  for (const orgId of orgs) raised += await raiseUnreviewedGrants(orgId, now);
  const alerts = await publishPendingAlerts();
  logger.info("security reviews done", { orgs: orgs.length, raised, ...alerts });
  return { orgs: orgs.length, raised, ...alerts };
}

export const handler = createJob("securityReviews", run);
