import { randomUUID } from "node:crypto";
import { type BreakGlassGrant, grantKey, relationshipsTo } from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { decide, type Principal } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { getDataKey, sealRecord } from "../../shared/crypto";
import { ConflictError, ForbiddenError, NotFoundError } from "../../shared/errors";
import { logger } from "../../shared/log";
import { loadClient } from "../../shared/store";

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
