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

/** Per test process, one of each: accounts the suites share without touching the seeded demo users. */
const shared = new Map<string, Promise<string>>();
const once = (key: string, make: () => Promise<string>) => {
  if (!shared.has(key)) shared.set(key, make());
  return shared.get(key) as Promise<string>;
};
const suffix = () => Math.random().toString(36).slice(2, 10);
type Stack = ReturnType<typeof testStack>;
const demoAdmin = (stack: Stack) =>
  stack.users.find((u) => u.email === "admin@demo.example")?.userId as string;

/** A coach no admin invited or changed within the two-person window: assigning it is never held. */
export function assignableCoach(stack: Stack): Promise<string> {
  return once("assignable", async () => {
    const admin = await stack.token("admin@demo.example");
    const id = await inviteUser(stack.api, admin, {
      email: `assignable.${suffix()}@demo.example`,
      role: "coach",
    });
    await touchedDaysAgo("demo", id, 60, [demoAdmin(stack)]);
    return id;
  });
}

/** A token of a second demo admin, who requests the held changes others decide (never their requester). */
export function secondAdminToken(stack: Stack): Promise<string> {
  return once("secondAdmin", async () => {
    const admin = await stack.token("admin@demo.example");
    const email = `second.admin.${suffix()}@demo.example`;
    const userId = await inviteUser(stack.api, admin, { email, role: "admin" });
    return tokenFor(admin, { userId, email, role: "admin" });
  });
}

/** A change the second admin makes to an account they just invited: held for someone else's decision. */
export async function heldChange(stack: Stack, clientId: string): Promise<string> {
  const secondAdmin = await secondAdminToken(stack);
  const grantee = await inviteUser(stack.api, secondAdmin, {
    email: `grantee.${suffix()}@demo.example`,
    role: "coach",
  });
  const held = await stack.api("PUT", `/clients/${clientId}/coaches/${grantee}`, { token: secondAdmin });
  expect(held.status, held.text.slice(0, 200)).toBe(202);
  return held.json.changeId as string;
}

/** A fresh coach account to change (role, status, reassignment) without touching anyone else; assignable at once. */
export async function freshCoach(stack: Stack): Promise<string> {
  const admin = await stack.token("admin@demo.example");
  const id = await inviteUser(stack.api, admin, { email: `target.${suffix()}@demo.example`, role: "coach" });
  await touchedDaysAgo("demo", id, 60, [demoAdmin(stack)]);
  return id;
}
