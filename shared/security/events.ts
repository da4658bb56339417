import { createHash } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { PublishCommand } from "@aws-sdk/client-sns";
import { DeleteCommand, QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { logger } from "../log";
import { filledPage } from "../store/query";

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
  "settings_weakened",
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

/** A finding as stored (and listed): the event, its id and whether the alarm topic has it yet. */
export type StoredSecurityEvent = SecurityEvent & { eventId: string };

export const eventPartition = (orgId: string | undefined) =>
  orgId ? `ORG#${orgId}#EVENTS` : "PLATFORM#EVENTS";

/** Findings are listed by time: their sort key starts with the time they were raised. */
export const EVENT_SK_PREFIX = "EVENT#";
export const eventSortKey = (event: Pick<SecurityEvent, "at">, id: string) =>
  `${EVENT_SK_PREFIX}${event.at}#${id}`;
/** The marker that makes a finding's id unique in its partition (its sort key holds the time, not the id). */
const eventIdMarker = (id: string) => `EVENTID#${id}`;

/**
 * The outbox: one item per finding not yet published to the alarm topic, written in the finding's own
 * transaction and deleted once SNS took it. The `securityReviews` job publishes what is left (a publish that
 * failed, a function that stopped between the two steps), so a finding is published at least once.
 */
export const OUTBOX_PARTITION = "OUTBOX#EVENTS";

/** A finding's id: stable for its dedupe key, so raising it again finds the first. */
export const eventId = (event: Pick<SecurityEvent, "orgId" | "dedupeKey">) =>
  createHash("sha256")
    .update(`${event.orgId ?? ""}\n${event.dedupeKey}`)
    .digest("base64url")
    .slice(0, 22);

/**
 * What the alarm topic receives: the finding's type, severity, org, id, rule, times, subject ids and the
 * numeric evidence (counts). Never a string of the evidence (a detector could put anything there), never
 * a name, an email, a note or a reason: an email subscriber's inbox is outside the HIPAA boundary.
 */
export function alertMessage(event: StoredSecurityEvent) {
  const { userId, ip, grantId, clientCount } = event.subject;
  const counts = Object.fromEntries(
    Object.entries(event.evidence).filter(
      (entry): entry is [string, number] => typeof entry[1] === "number" && Number.isFinite(entry[1]),
    ),
  );
  return {
    source: "coachvault",
    kind: "security_finding",
    eventId: event.eventId,
    type: event.type,
    severity: event.severity,
    ...(event.orgId && { orgId: event.orgId }),
    rule: event.rule,
    at: event.at,
    window: { from: event.window.from, to: event.window.to },
    subject: {
      ...(userId && { userId }),
      ...(ip && { ip }),
      ...(grantId && { grantId }),
      ...(clientCount !== undefined && { clientCount }),
    },
    counts,
  };
}

export type AlertMessage = ReturnType<typeof alertMessage>;

type OutboxItem = { pk: string; sk: string; message: AlertMessage };
const outboxItem = (event: StoredSecurityEvent): OutboxItem => ({
  pk: OUTBOX_PARTITION,
  sk: `${event.at}#${event.eventId}`,
  message: alertMessage(event),
});

/**
 * Publishes one outbox item and removes it. Returns whether SNS took it; a failure is logged (ids only)
 * and the item stays for the next run of the job. A delete that fails after SNS took it publishes the
 * finding again later: receivers deduplicate by `eventId`.
 */
export async function publishOutboxItem(item: OutboxItem): Promise<boolean> {
  const topic = getConfig().ALARM_TOPIC_ARN;
  if (!topic) {
    logger.warn("security finding left for the alerts job: no alarm topic here", {
      eventId: item.message.eventId,
    });
    return false;
  }
  try {
    await aws("sns").send(
      new PublishCommand({
        TopicArn: topic,
        Subject: `CoachVault security finding: ${item.message.type} (${item.message.severity})`,
        Message: JSON.stringify(item.message),
        MessageAttributes: {
          type: { DataType: "String", StringValue: item.message.type },
          severity: { DataType: "String", StringValue: item.message.severity },
        },
      }),
    );
  } catch (error) {
    logger.warn("security finding not published yet: the alerts job retries", {
      securityEvent: "FINDING_PUBLISH_FAILED",
      eventId: item.message.eventId,
      error: { name: error instanceof Error ? error.name : "unknown" },
    });
    return false;
  }
  try {
    await aws("dynamo").send(
      new DeleteCommand({ TableName: getConfig().TABLE_SECURITY, Key: { pk: item.pk, sk: item.sk } }),
    );
  } catch (error) {
    logger.warn("published finding still in the outbox: it may be published again", {
      eventId: item.message.eventId,
      error: { name: error instanceof Error ? error.name : "unknown" },
    });
  }
  return true;
}

/**
 * Stores a finding once and announces it: one transaction writes the marker of its id (conditional: a
 * second raise of the same dedupe key is a duplicate, neither stored nor announced again), the finding
 * under a time-ordered sort key, and its outbox item; then it is logged as a security event and published
 * to the alarm topic. A publish that fails loses nothing: the outbox item stays and the `securityReviews`
 * job publishes it. Only a failure to store throws.
 */
export async function raiseSecurityEvent(event: SecurityEvent): Promise<"raised" | "duplicate"> {
  const id = eventId(event);
  const pk = eventPartition(event.orgId);
  const stored: StoredSecurityEvent = { ...event, eventId: id };
  const outbox = outboxItem(stored);
  const table = getConfig().TABLE_SECURITY;
  try {
    await aws("dynamo").send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: { pk, sk: eventIdMarker(id), eventId: id, eventSk: eventSortKey(event, id) },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          { Put: { TableName: table, Item: { pk, sk: eventSortKey(event, id), ...stored } } },
          { Put: { TableName: table, Item: outbox } },
        ],
      }),
    );
  } catch (error) {
    if (
      error instanceof TransactionCanceledException &&
      error.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed"
    )
      return "duplicate";
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
  await publishOutboxItem(outbox);
  return "raised";
}

/** Outbox items one run publishes at most (findings are rare; a backlog drains over a few runs). */
const OUTBOX_BATCH = 100;

/**
 * Publishes what the outbox holds, oldest first: findings whose publish failed or never happened. Returns
 * how many SNS took and how many are still waiting.
 */
export async function publishPendingAlerts(): Promise<{ published: number; pending: number }> {
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: getConfig().TABLE_SECURITY,
      KeyConditionExpression: "pk = :p",
      ExpressionAttributeValues: { ":p": OUTBOX_PARTITION },
      ConsistentRead: true,
      Limit: OUTBOX_BATCH,
    }),
  );
  let published = 0;
  for (const item of (out.Items ?? []) as OutboxItem[]) if (await publishOutboxItem(item)) published++;
  return { published, pending: (out.Items?.length ?? 0) - published };
}

export type EventQuery = {
  /** ISO times, inclusive. */
  from: string;
  to: string;
  type?: SecurityEventType;
  limit: number;
  /** The sort key of the last finding of the previous page. */
  after?: string;
};

/**
 * One page of an org's findings raised between `from` and `to`, newest first, optionally of one type. `last`
 * is the sort key of the page's last finding when more may follow (the cursor's position).
 */
export async function listSecurityEvents(
  orgId: string,
  query: EventQuery,
): Promise<{ items: StoredSecurityEvent[]; last?: string }> {
  const pk = eventPartition(orgId);
  const page = await filledPage<Record<string, unknown> & { sk: string }, StoredSecurityEvent>(
    {
      TableName: getConfig().TABLE_SECURITY,
      KeyConditionExpression: "pk = :p AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: {
        ":p": pk,
        ":from": `${EVENT_SK_PREFIX}${query.from}`,
        // Every id sorts before "~": the whole last instant is in the range.
        ":to": `${EVENT_SK_PREFIX}${query.to}~`,
        ...(query.type && { ":type": query.type }),
      },
      ...(query.type && { FilterExpression: "#type = :type", ExpressionAttributeNames: { "#type": "type" } }),
      ScanIndexForward: false,
      ConsistentRead: true,
      ...(query.after && { ExclusiveStartKey: { pk, sk: query.after } }),
    },
    query.limit,
    (batch) => batch.map(({ pk: _pk, sk: _sk, ...event }) => event as StoredSecurityEvent),
  );
  return { items: page.items, ...(page.last && { last: page.last.sk }) };
}
