import { getRecord } from "../store/records";

/** An emergency-access grant: one user, one client, a bounded time. */
export type BreakGlassGrant = {
  grantId: string;
  clientId: string;
  userId: string;
  grantedAt: string;
  expiresAt: string;
  /** The written reason, sealed under the client's key (it may describe the client). */
  reason: string;
};

export const grantKey = (orgId: string, clientId: string, userId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `BREAKGLASS#${clientId}#${userId}`,
});

/**
 * A grant's own durable record, for its review: the grant item above is per client and user, so a later
 * grant overwrites an earlier one; this one is per grant and stays. Written with the grant, in its
 * transaction; a compliance officer's review moves it from `pending` to `reviewed` (once).
 */
export type GrantReviewRecord = {
  grantId: string;
  clientId: string;
  userId: string;
  grantedAt: string;
  expiresAt: string;
  status: "pending" | "reviewed";
  reviewedBy?: string;
  reviewedAt?: string;
  /** The reviewer's note, sealed under the client's key (it may describe the client). */
  reviewNote?: string;
};

export const GRANT_RECORD_PREFIX = "BREAKGLASS_GRANT#";
export const grantRecordKey = (orgId: string, grantId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `${GRANT_RECORD_PREFIX}${grantId}`,
});

export const isActive = (grant: Pick<BreakGlassGrant, "expiresAt"> | undefined, now = new Date()) =>
  Boolean(grant && grant.expiresAt > now.toISOString());

export async function activeGrant(
  orgId: string,
  clientId: string,
  userId: string,
): Promise<BreakGlassGrant | undefined> {
  const grant = await getRecord<BreakGlassGrant>(grantKey(orgId, clientId, userId));
  return isActive(grant) ? grant : undefined;
}
