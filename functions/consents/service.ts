import { accessClient, type ConsentRecord, consentKey, consentsOf, type Purpose } from "../../shared/access";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { type Principal, pick } from "../../shared/auth";
import { getConfig } from "../../shared/config";

/** Consent per client and purpose: recorded with the version of the text agreed to, revocable, audited. */
export async function listConsents(principal: Principal, clientId: string) {
  const access = await accessClient(principal, clientId, "consent:read");
  const items = await consentsOf(principal.orgId, clientId);
  return { items: items.map((item) => pick(item as unknown as Record<string, unknown>, access.fields)) };
}

async function record(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  purpose: Purpose,
  change: (current: ConsentRecord | undefined, now: string) => ConsentRecord,
) {
  const access = await accessClient(principal, clientId, "consent:write");
  const current = (await consentsOf(principal.orgId, clientId)).find((c) => c.purpose === purpose);
  const next = change(current, new Date().toISOString());
  await appendWithItems(
    auditEntry(
      principal,
      request,
      `consent.${next.status === "granted" ? "grant" : "revoke"}`,
      { type: "consent", id: purpose, clientId },
      ["status"],
      access,
    ),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: { ...consentKey(principal.orgId, clientId, purpose), ...next },
          },
        },
      },
    ],
  );
  return pick(next as unknown as Record<string, unknown>, access.fields);
}

export const grantConsent = (
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  purpose: Purpose,
  version: string,
) =>
  record(principal, request, clientId, purpose, (_current, now) => ({
    clientId,
    purpose,
    status: "granted",
    version,
    grantedAt: now,
    recordedBy: principal.userId,
  }));

export const revokeConsent = (
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  purpose: Purpose,
) =>
  record(principal, request, clientId, purpose, (current, now) => ({
    clientId,
    purpose,
    status: "revoked",
    version: current?.version ?? "none",
    grantedAt: current?.grantedAt ?? now,
    revokedAt: now,
    recordedBy: principal.userId,
  }));
