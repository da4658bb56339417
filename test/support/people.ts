import { randomUUID } from "node:crypto";
import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AssociateSoftwareTokenCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand,
  VerifySoftwareTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import { lambdaContext } from "../../infra/local/lambda-runtime";
import { totpFor } from "../../infra/local/provision";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { invocationFor } from "../../shared/jobs";
import { userKey } from "../../shared/people";
import type { testStack } from "./stack";
import { forge } from "./tokens";

/**
 * People for the stack suites. Invitations are processed out of band (`POST /users` answers 202 with a
 * pending invitation), so a test that needs the new account waits for the outcome. Tests that change an
 * account use accounts of their own (invited here, so the inviting admin is in `touchedBy` as in
 * production, and aged past the two-person window where needed), never a seeded demo user: an admin's
 * change to a demo user would hold that admin's later assignments of it for 30 days, in every test file.
 */
type Api = ReturnType<typeof testStack>["api"];

export type Invitation = {
  inviteId: string;
  email: string;
  role: string;
  status: "pending" | "sent" | "failed";
  userId?: string;
  [key: string]: unknown;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `GET /users/invites` until the invitation is no longer pending. */
export async function settledInvitation(api: Api, token: string, inviteId: string): Promise<Invitation> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const list = await api("GET", "/users/invites", { token });
    if (list.status !== 200) throw new Error(`GET /users/invites answered ${list.status}`);
    const invite = (list.json.items as Invitation[]).find((item) => item.inviteId === inviteId);
    if (invite && invite.status !== "pending") return invite;
    await sleep(100);
  }
  throw new Error(`invitation ${inviteId} still pending`);
}

/** Invites a user and waits for the account: the settled invitation (with `userId` once `sent`). */
export async function invite(api: Api, token: string, body: Record<string, unknown>): Promise<Invitation> {
  const res = await api("POST", "/users", { token, body });
  if (res.status !== 202) throw new Error(`POST /users answered ${res.status}: ${res.text.slice(0, 200)}`);
  return settledInvitation(api, token, res.json.inviteId);
}

/** Waits until none of the org's recent invitations is pending (so no job writes behind a test's back). */
export async function settleInvitations(api: Api, token: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const list = await api("GET", "/users/invites", { token });
    if (!(list.json.items as Invitation[]).some((item) => item.status === "pending")) return;
    await sleep(100);
  }
  throw new Error("invitations still pending");
}

/**
 * A first sign-in with a temporary password: the new-password challenge, then TOTP enrolment with the
 * access token it returns. Returns the new password, the TOTP secret and that access token.
 */
export async function firstSignIn(clientId: string, email: string, temporaryPassword: string) {
  const cognito = aws("cognito");
  const first = await cognito.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: temporaryPassword },
    }),
  );
  if (first.ChallengeName !== "NEW_PASSWORD_REQUIRED") throw new Error("expected NEW_PASSWORD_REQUIRED");
  const password = `${temporaryPassword}Nn9!`;
  const second = await cognito.send(
    new RespondToAuthChallengeCommand({
      ClientId: clientId,
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      Session: first.Session,
      ChallengeResponses: { USERNAME: email, NEW_PASSWORD: password },
    }),
  );
  const accessToken = second.AuthenticationResult?.AccessToken;
  if (!accessToken) throw new Error("no access token after the new password");
  const association = await cognito.send(new AssociateSoftwareTokenCommand({ AccessToken: accessToken }));
  const totpSecret = association.SecretCode as string;
  await cognito.send(
    new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: totpFor(totpSecret).generate() }),
  );
  await cognito.send(
    new SetUserMFAPreferenceCommand({
      AccessToken: accessToken,
      SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    }),
  );
  return { password, totpSecret, accessToken };
}

/** What Cognito holds for an account, by its username: enabled, org, email, role groups. */
export async function cognitoState(username: string) {
  const pool = { UserPoolId: getConfig().USER_POOL_ID, Username: username };
  const user = await aws("cognito").send(new AdminGetUserCommand(pool));
  const groups = await aws("cognito").send(new AdminListGroupsForUserCommand(pool));
  const attribute = (name: string) => user.UserAttributes?.find((a) => a.Name === name)?.Value;
  return {
    enabled: user.Enabled,
    orgId: attribute("custom:orgId"),
    email: attribute("email"),
    sub: attribute("sub"),
    groups: (groups.Groups ?? []).map((group) => group.GroupName).sort(),
  };
}

/** The invocation a job's inner `run` gets from its Lambda context, for running jobs in the test process. */
export const jobInvocation = (jobId: string) =>
  invocationFor(jobId, lambdaContext(`coachvault-test-${jobId}`, randomUUID(), 120_000));

/** Invites a user through the API, waits for the account and returns its id. The one place tests invite. */
export async function inviteUser(
  api: Api,
  token: string,
  body: { email: string; role: Role; leadId?: string },
): Promise<string> {
  const invitation = await invite(api, token, body);
  expect(invitation.status, `invitation of a fresh address ${invitation.status}`).toBe("sent");
  return invitation.userId as string;
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
      TableName: getConfig().TABLE_DIRECTORY,
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

/**
 * A token of a second demo admin, who requests the held changes others decide (never their requester).
 * The demo admin's invitation is aged past the two-person window, so the two are independent: neither is
 * in the other's circle, and the demo admin (or the demo lead) may decide this admin's held changes.
 */
export function secondAdminToken(stack: Stack): Promise<string> {
  return once("secondAdmin", async () => {
    const admin = await stack.token("admin@demo.example");
    const email = `second.admin.${suffix()}@demo.example`;
    const userId = await inviteUser(stack.api, admin, { email, role: "admin" });
    await touchedDaysAgo("demo", userId, 60, [demoAdmin(stack)]);
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
