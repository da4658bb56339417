import { randomUUID } from "node:crypto";
import {
  type BreakGlassGrant,
  type GrantReviewRecord,
  grantKey,
  grantRecordKey,
  relationshipsTo,
  requireIndependentOf,
} from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { decide, type Principal, requireOrgAction } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { getDataKey, sealRecord } from "../../shared/crypto";
import { ConflictError, ForbiddenError, NotFoundError } from "../../shared/errors";
import { logger } from "../../shared/log";
import { getRecord, loadClient } from "../../shared/store";

/**
 * Emergency access to one client for a bounded time. The grant, its audit entry (marked break-glass)
 * and the security event happen together; while a grant is active, asking again is refused, so it can
 * never be extended silently. The org is the caller's own (from the token), so no grant crosses orgs.
 */
export async function requestBreakGlass(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  reason: string,
) {
  const client = await loadClient(principal.orgId, clientId);
  if (!client) throw new NotFoundError();
  const held = await relationshipsTo(principal, client);
  if (!held.some((relationship) => decide(principal, "breakglass:request", relationship).allow))
    throw new ForbiddenError();
  const now = new Date();
  const grantId = randomUUID();
  const expiresAt = new Date(now.getTime() + getConfig().BREAK_GLASS_MINUTES * 60_000).toISOString();
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  const grant: BreakGlassGrant = {
    grantId,
    clientId,
    userId: principal.userId,
    grantedAt: now.toISOString(),
    expiresAt,
    reason: sealRecord(
      key,
      { orgId: principal.orgId, clientId, recordId: `breakglass#${grantId}`, version: 1 },
      { reason },
    ).reason as string,
  };
  const reviewRecord: GrantReviewRecord = {
    grantId,
    clientId,
    userId: principal.userId,
    grantedAt: grant.grantedAt,
    expiresAt,
    status: "pending",
  };
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "breakglass.grant",
      { type: "client", id: clientId, clientId },
      ["reason"],
      {
        relationship: "break_glass",
        breakGlass: true,
      },
    ),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: { ...grantKey(principal.orgId, clientId, principal.userId), ...grant },
            ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
            ExpressionAttributeValues: { ":now": now.toISOString() },
          },
        },
        onConditionFailed: () =>
          new ConflictError(
            "BREAK_GLASS_ACTIVE",
            "An emergency grant is already active; it cannot be extended.",
          ),
      },
      // Its own record, for its review (the item above is overwritten by the next grant to this user).
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: { ...grantRecordKey(principal.orgId, grantId), ...reviewRecord },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
    ],
  );
  logger.warn("break-glass access granted", {
    securityEvent: "BREAK_GLASS_GRANTED",
    clientId,
    grantId,
    userId: principal.userId,
    expiresAt,
  });
  return { grantId, clientId, expiresAt };
}

/**
 * A compliance officer's review of a grant: pending → reviewed, with the reviewer, the time and a note
 * (sealed under the client's key), conditional on it still being pending, and audited in the same
 * transaction. A grant of another org is not found (the key carries the caller's org); a second review is
 * 409 `ALREADY_REVIEWED`, whether it came second by seconds or by days. The reviewer is another person than
 * the grantee (the two-person rule's circles), else 403 `SECOND_PERSON_REQUIRED`.
 */
export async function reviewGrant(principal: Principal, request: RequestMeta, grantId: string, note: string) {
  requireOrgAction(principal, "breakglass:review");
  const key = grantRecordKey(principal.orgId, grantId);
  const record = await getRecord<GrantReviewRecord>(key);
  if (!record) throw new NotFoundError();
  if (record.status !== "pending") throw alreadyReviewed();
  // Another person than the grantee: not the grantee (an account whose role changed since), nor an account
  // the grantee invited or changed, or that changed the grantee, within the two-person window.
  await requireIndependentOf(principal.orgId, principal.userId, [record.userId]);
  const reviewedAt = new Date().toISOString();
  const dataKey = await getDataKey({ orgId: principal.orgId, clientId: record.clientId });
  const reviewNote = sealRecord(
    dataKey,
    {
      orgId: principal.orgId,
      clientId: record.clientId,
      recordId: `breakglass-review#${grantId}`,
      version: 1,
    },
    { note },
  ).note as string;
  await appendWithItems(
    auditEntry(
      principal,
      request,
      "breakglass.review",
      { type: "client", id: record.clientId, clientId: record.clientId },
      ["note"],
    ),
    [
      {
        item: {
          Update: {
            TableName: getConfig().TABLE_RECORDS,
            Key: key,
            UpdateExpression:
              "SET #status = :reviewed, reviewedBy = :by, reviewedAt = :at, reviewNote = :note",
            ConditionExpression: "#status = :pending",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: {
              ":reviewed": "reviewed",
              ":pending": "pending",
              ":by": principal.userId,
              ":at": reviewedAt,
              ":note": reviewNote,
            },
          },
        },
        onConditionFailed: alreadyReviewed,
      },
    ],
  );
  const { grantedAt, expiresAt, clientId, userId } = record;
  return {
    grantId,
    clientId,
    userId,
    grantedAt,
    expiresAt,
    status: "reviewed" as const,
    reviewedBy: principal.userId,
    reviewedAt,
  };
}

const alreadyReviewed = () => new ConflictError("ALREADY_REVIEWED", "This grant was already reviewed.");
