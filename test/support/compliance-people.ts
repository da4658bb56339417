import { randomUUID } from "node:crypto";
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SetUserMFAPreferenceCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { newPassword, totpFor } from "../../infra/local/provision";
import { signIn } from "../../infra/local/sign-in";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import {
  CHECKS,
  type CheckContext,
  type CheckDefinition,
  evaluateChecks,
  type ReportBody,
} from "../../shared/compliance";
import { getConfig } from "../../shared/config";
import { userItem } from "../../shared/people";
import { BUILT_IN_SETTINGS } from "../../shared/settings";
import { firstSignIn } from "./people";

/**
 * Compliance-report helpers for the stack suites: accounts of an org of the test's own (enrolled the way a
 * person enrols: new password, then TOTP), taking a user's second factor away, and evaluating one check.
 */

/** Who can sign in with a password and TOTP (a demo user of `testStack().users` fits). */
export type SignInUser = { email: string; password: string; totpSecret: string };
export type EnrolledUser = SignInUser & { userId: string; username: string; role: Role; orgId: string };

/** An account of `orgId` made as the seed makes them (Cognito, role group, directory), signed in once with TOTP enrolled. */
export async function enrolledUser(
  userPoolClientId: string,
  orgId: string,
  role: Role,
): Promise<EnrolledUser> {
  const { USER_POOL_ID, TABLE_DIRECTORY } = getConfig();
  const email = `${role}.${randomUUID().slice(0, 8)}@${orgId}.example`;
  const temporaryPassword = newPassword();
  const created = await aws("cognito").send(
    new AdminCreateUserCommand({
      UserPoolId: USER_POOL_ID,
      Username: email,
      TemporaryPassword: temporaryPassword,
      MessageAction: "SUPPRESS",
      UserAttributes: [
        { Name: "email", Value: email },
        { Name: "email_verified", Value: "true" },
        { Name: "custom:orgId", Value: orgId },
      ],
    }),
  );
  const username = created.User?.Username as string;
  const userId = created.User?.Attributes?.find((a) => a.Name === "sub")?.Value as string;
  await aws("cognito").send(
    new AdminAddUserToGroupCommand({ UserPoolId: USER_POOL_ID, Username: username, GroupName: role }),
  );
  const now = new Date().toISOString();
  await aws("dynamo").send(
    new PutCommand({
      TableName: TABLE_DIRECTORY,
      Item: userItem({
        userId,
        username,
        orgId,
        email,
        role,
        status: "active",
        version: 1,
        createdAt: now,
        updatedAt: now,
      }),
    }),
  );
  const { password, totpSecret } = await firstSignIn(userPoolClientId, email, temporaryPassword);
  return { email, password, totpSecret, userId, username, role, orgId };
}

/** An ID token for an enrolled user (password, then the TOTP challenge). */
export const idTokenOf = (userPoolClientId: string, user: SignInUser) => signIn(userPoolClientId, user);

/**
 * Takes a user's second factor away the way the user can: signed in (password and TOTP), they turn their
 * software token off (SetUserMFAPreference with their access token). An admin would call
 * AdminSetUserMFAPreference, which cognito-local does not serve; the outcome Cognito reports
 * (`UserMFASettingList` without `SOFTWARE_TOKEN_MFA`) is the same. Returns `restore`, which turns it
 * back on: call it (in `finally`) before anyone signs in as that user again, since a pool that requires
 * MFA refuses a user without a factor.
 */
export async function takeAwayMfa(userPoolClientId: string, user: SignInUser): Promise<() => Promise<void>> {
  const cognito = aws("cognito");
  const first = await cognito.send(
    new InitiateAuthCommand({
      ClientId: userPoolClientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
    }),
  );
  const second = await cognito.send(
    new RespondToAuthChallengeCommand({
      ClientId: userPoolClientId,
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      Session: first.Session,
      ChallengeResponses: {
        USERNAME: user.email,
        SOFTWARE_TOKEN_MFA_CODE: totpFor(user.totpSecret).generate(),
      },
    }),
  );
  const accessToken = second.AuthenticationResult?.AccessToken;
  if (!accessToken) throw new Error("sign-in returned no access token");
  const setSoftwareToken = (enabled: boolean) =>
    cognito.send(
      new SetUserMFAPreferenceCommand({
        AccessToken: accessToken,
        SoftwareTokenMfaSettings: { Enabled: enabled, PreferredMfa: enabled },
      }),
    );
  await setSoftwareToken(false);
  return async () => {
    await setSoftwareToken(true);
  };
}

type EngineContext = Omit<CheckContext, "carried">;

/**
 * A check context for `orgId` as `generateReport` builds one (settings: the built-in ones); `carried` is
 * what the checks carried from a previous report (by check id), as the engine hands it on.
 */
export function checkContext(
  orgId: string,
  options: { from?: string; now?: Date; carried?: Record<string, unknown> } = {},
): EngineContext {
  const now = options.now ?? new Date();
  const memos = new Map<string, Promise<unknown>>();
  return {
    orgId,
    period: {
      from: options.from ?? new Date(now.getTime() - 86_400_000).toISOString(),
      to: now.toISOString(),
    },
    now,
    settings: BUILT_IN_SETTINGS,
    ...(options.carried && {
      previous: {
        reportId: "previous",
        generatedAt: options.from ?? now.toISOString(),
        score: 0,
        statuses: {},
        carry: options.carried,
      },
    }),
    memo: <T>(key: string, load: () => Promise<T>) => {
      if (!memos.has(key)) memos.set(key, load());
      return memos.get(key) as Promise<T>;
    },
  };
}

export const checkNamed = (id: string): CheckDefinition => {
  const check = CHECKS.find((candidate) => candidate.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check;
};

/** One check's result and what it carries, through the engine (so a fail carries its remediation). */
export async function evaluateCheck(id: string, context: EngineContext) {
  const { results, carry } = await evaluateChecks([checkNamed(id)], context);
  return { result: results[0] as ReportBody["checks"][number], carry: carry[id] };
}
