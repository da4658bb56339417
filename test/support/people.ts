import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { userKey } from "../../shared/people";
import type { testStack } from "./stack";
import { forge } from "./tokens";

/**
 * People for tests that need accounts of their own: invited through the API (so the inviting admin is in
 * the account's `touchedBy`, as in production), signed in, and aged past the two-person window.
 * Tests that change an account should use one of these, never a seeded demo user: an admin's change to
 * a demo user would hold that admin's later assignments of it for 30 days, in every other test file.
 */
type Api = ReturnType<typeof testStack>["api"];

/** Invites a user through the API and returns their id. The one place tests invite: change it here if invitations change. */
export async function inviteUser(
  api: Api,
  token: string,
  body: { email: string; role: Role; leadId?: string },
): Promise<string> {
  const invited = await api("POST", "/users", { token, body });
  expect(invited.status, invited.text.slice(0, 200)).toBe(201);
  return invited.json.userId as string;
}

/**
 * An ID token for an invited account, with the claims Cognito issues, signed with cognito-local's key
 * (which the API trusts through the JWKS). A real sign-in is not possible for it: the pool requires MFA
 * and cognito-local has no MFA_SETUP challenge to enrol a new user's TOTP. `sameOrg` is a real token
 * of a user of the account's org, whose other claims (issuer, audience, org, expiry) are kept.
 */
export function tokenFor(sameOrg: string, user: { userId: string; email: string; role: Role }) {
  return forge(sameOrg, {
    sub: user.userId,
    email: user.email,
    "cognito:username": user.userId,
    "cognito:groups": [user.role],
  });
}

/** Moves every admin's last touch of an account to `days` ago (as if nobody had invited or changed it since). */
export async function touchedDaysAgo(orgId: string, userId: string, days: number, adminIds: string[]) {
  const at = new Date(Date.now() - days * 86_400_000).toISOString();
  await aws("dynamo").send(
    new UpdateCommand({
      TableName: getConfig().TABLE_RECORDS,
      Key: userKey(orgId, userId),
      UpdateExpression: "SET touchedBy = :touched",
      ExpressionAttributeValues: { ":touched": Object.fromEntries(adminIds.map((id) => [id, at])) },
    }),
  );
}
