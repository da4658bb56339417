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
import { lambdaContext } from "../../infra/local/lambda-runtime";
import { totpFor } from "../../infra/local/provision";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { invocationFor } from "../../shared/jobs";

/**
 * People helpers for the stack suites: invitations are processed out of band (`POST /users` answers
 * 202 with a pending invitation), so a test that needs the new account waits for the outcome; and a
 * first sign-in (temporary password → new password → TOTP enrolment) for accounts made in a test.
 */
type Api = (
  method: string,
  path: string,
  options?: { token?: string; body?: unknown },
) => Promise<{ status: number; json: any; text: string }>;

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
