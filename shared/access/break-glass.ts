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
