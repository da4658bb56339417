import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";

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
  const out = await aws("dynamo").send(
    new GetCommand({
      TableName: getConfig().TABLE_RECORDS,
      Key: grantKey(orgId, clientId, userId),
      ConsistentRead: true,
    }),
  );
  const grant = out.Item as BreakGlassGrant | undefined;
  return isActive(grant) ? grant : undefined;
}
