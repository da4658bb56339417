import { accessClient, type ConsentRecord, consentKey, consentsOf, type Purpose } from "../../shared/access";
import { appendWithItems, auditEntry, phiFieldsIn, type RequestMeta } from "../../shared/audit";
import { type Principal, pick } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { CONSENT_LIST_PHI, CONSENT_PHI } from "./schema";

/** Consent per client and purpose: recorded with the version of the text agreed to, revocable, audited. */
const view = (consent: ConsentRecord, fields: ReadonlySet<string>) =>
  pick(consent as unknown as Record<string, unknown>, fields);

/** Reading a client's consents discloses facts about the client: audited before they are returned. */
export async function listConsents(principal: Principal, request: RequestMeta, clientId: string) {
  const access = await accessClient(principal, clientId, "consent:read");
  const page = {
    items: (await consentsOf(principal.orgId, clientId)).map((item) => view(item, access.fields)),
  };
  const disclosed = phiFieldsIn(CONSENT_LIST_PHI, page);
  if (disclosed.length > 0) {
    await appendWithItems(
      auditEntry(
        principal,
        request,
        "consent.list",
        { type: "consent", id: "*", clientId },
        disclosed,
        access,
      ),
    );
  }
  return page;
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
  // A revoke carries the version that was granted: it must build on the state it read, not another.
  const next = { ...change(current, new Date().toISOString()), revision: (current?.revision ?? 0) + 1 };
  const answer = view(next, access.fields);
  await appendWithItems(
    auditEntry(
      principal,
      request,
      `consent.${next.status === "granted" ? "grant" : "revoke"}`,
      { type: "consent", id: purpose, clientId },
      [...new Set(["status", ...phiFieldsIn(CONSENT_PHI, answer)])],
      access,
    ),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: { ...consentKey(principal.orgId, clientId, purpose), ...next },
            ConditionExpression: current
              ? current.revision === undefined
                ? "attribute_not_exists(revision)"
                : "revision = :read"
              : "attribute_not_exists(pk)",
            ...(current?.revision !== undefined && {
              ExpressionAttributeValues: { ":read": current.revision },
            }),
          },
        },
      },
    ],
  );
  return answer;
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
