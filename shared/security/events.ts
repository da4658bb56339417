import { createHash } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { logger } from "../log";

/**
 * Security events (findings): what a detector concluded, stored per org in the security table, logged as
 * a `securityEvent` (the CDK alarms on it) and published to the alarm topic. Evidence is ids, counts and
 * times only: never PHI, never a name, an email or a note.
 */
export const SECURITY_EVENT_TYPES = [
  "brute_force",
  "excessive_access",
  "after_hours_access",
  "break_glass",
  "break_glass_unreviewed",
  "repeated_denials",
  "bulk_access",
  "inactive_account_access",
  "principal_blocked",
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export type Evidence = Record<string, string | number | boolean | readonly string[]>;

export type SecurityEvent = {
  type: SecurityEventType;
  severity: Severity;
  /** The org it concerns; `undefined` for what no org is known for (an IP probing sign-in). */
  orgId?: string;
  /** ISO time the detector raised it. */
  at: string;
  /** ISO time of the first and last activity it is about. */
  window: { from: string; to: string };
  subject: { userId?: string; ip?: string; grantId?: string; clientCount?: number };
  /** The rule that raised it (its id in the detector table). */
  rule: string;
  evidence: Evidence;
  /**
   * What makes two raises the same finding (e.g. rule + user + day): a retried batch or an overlapping
   * window raises it once.
   */
  dedupeKey: string;
};

export const eventPartition = (orgId: string | undefined) =>
  orgId ? `ORG#${orgId}#EVENTS` : "PLATFORM#EVENTS";

/** A finding's id: stable for its dedupe key, so raising it again finds the first. */
export const eventId = (event: Pick<SecurityEvent, "orgId" | "dedupeKey">) =>
  createHash("sha256")
    .update(`${event.orgId ?? ""}\n${event.dedupeKey}`)
    .digest("base64url")
    .slice(0, 22);

/**
 * Stores a finding once (a conditional put on its id) and logs it as a security event. Returns whether it
 * was new: a duplicate (a retried stream batch) is neither stored nor announced again.
 */
export async function raiseSecurityEvent(event: SecurityEvent): Promise<"raised" | "duplicate"> {
  const id = eventId(event);
  try {
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_SECURITY,
        Item: { pk: eventPartition(event.orgId), sk: `EVENT#${id}`, eventId: id, ...event },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return "duplicate";
    throw error;
  }
  logger.warn("security finding", {
    securityEvent: `FINDING_${event.type.toUpperCase()}`,
    eventId: id,
    orgId: event.orgId,
    rule: event.rule,
    severity: event.severity,
    ...event.subject,
  });
  return "raised";
}
