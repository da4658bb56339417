import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AliasExistsException,
  type AttributeType,
  CodeDeliveryFailureException,
  InvalidParameterException,
  InvalidPasswordException,
  UserNotFoundException,
  UsernameExistsException,
} from "@aws-sdk/client-cognito-identity-provider";
import { isRole, type Role } from "../auth/roles";
import { aws } from "../aws";
import { getConfig } from "../config";

/**
 * The Cognito side of managing people. Accounts are addressed by their immutable `username`, never by
 * email: in a pool whose sign-in attribute is email, Cognito (and cognito-local alike) gives each account
 * a generated username equal to its `sub`, while the email is an attribute its owner might change. The
 * directory stores the username at creation; everything here takes it.
 */
const pool = () => ({ UserPoolId: getConfig().USER_POOL_ID });

export type Account = {
  username: string;
  sub: string;
  orgId: string | undefined;
  /** Cognito's `UserStatus`: `FORCE_CHANGE_PASSWORD` until the first sign-in sets a password. */
  status: string | undefined;
  createdAt: Date | undefined;
};

export type CreateAccountResult =
  /** A new account (Cognito emails it a temporary password unless one was given). */
  | { outcome: "created"; account: Account }
  /** The address already has an account: this one (in the caller's org or another). */
  | { outcome: "exists"; account: Account }
  /** Cognito refused the address itself (invalid, undeliverable). */
  | { outcome: "refused" };

const attribute = (attributes: AttributeType[] | undefined, name: string) =>
  attributes?.find((candidate) => candidate.Name === name)?.Value;

type CognitoUser = {
  Username?: string | undefined;
  UserStatus?: string | undefined;
  UserCreateDate?: Date | undefined;
};

function accountOf(user: CognitoUser | undefined, attributes: AttributeType[] | undefined): Account {
  const sub = attribute(attributes, "sub");
  if (!user?.Username || !sub) throw new Error("Cognito returned an account without username or sub");
  return {
    username: user.Username,
    sub,
    orgId: attribute(attributes, "custom:orgId"),
    status: user.UserStatus,
    createdAt: user.UserCreateDate,
  };
}

/**
 * Whether an account that already exists for an address is provably the product of an earlier attempt
 * of the same work, started at `since` (an invitation's creation, a bootstrap's first run): it carries
 * the org, nobody has signed in with it yet (`FORCE_CHANGE_PASSWORD`: only the temporary password that
 * went to the address exists), and it was created at or after `since` (Cognito reports the creation to
 * the millisecond; the attempt is recorded before the account is asked for, so its own account always
 * comes later). Anything else (an account planted before, with the org and a password someone knows;
 * one already in use) is not adopted. The caller also checks that no directory entry has it.
 */
export function isOwnEarlierAttempt(account: Account, orgId: string, since: string): boolean {
  return (
    account.orgId === orgId &&
    account.status === "FORCE_CHANGE_PASSWORD" &&
    createdSince(account, new Date(since))
  );
}

/** Whether the account was created at or after `since`, whoever created it. */
export const createdSince = (account: Account, since: Date) =>
  account.createdAt !== undefined && account.createdAt.getTime() >= since.getTime();

/**
 * Creates an account for `email` in `orgId`. `temporaryPassword` is for the local stack, which sends no
 * email: the password is set here and no message goes out. Without it Cognito generates one and emails it.
 * An address that already has an account is reported with that account (looked up by the address, which
 * is the only thing known about it), so the caller can tell its own earlier attempt from someone else's.
 */
export async function createAccount(
  email: string,
  orgId: string,
  options: { temporaryPassword?: string } = {},
): Promise<CreateAccountResult> {
  try {
    const out = await aws("cognito").send(
      new AdminCreateUserCommand({
        ...pool(),
        Username: email,
        ...(options.temporaryPassword
          ? { TemporaryPassword: options.temporaryPassword, MessageAction: "SUPPRESS" }
          : { DesiredDeliveryMediums: ["EMAIL"] }),
        UserAttributes: [
          { Name: "email", Value: email },
          { Name: "email_verified", Value: "true" },
          { Name: "custom:orgId", Value: orgId },
        ],
      }),
    );
    return { outcome: "created", account: accountOf(out.User, out.User?.Attributes) };
  } catch (error) {
    if (error instanceof UsernameExistsException || error instanceof AliasExistsException) {
      const existing = await aws("cognito").send(new AdminGetUserCommand({ ...pool(), Username: email }));
      return { outcome: "exists", account: accountOf(existing, existing.UserAttributes) };
    }
    if (
      error instanceof InvalidParameterException ||
      error instanceof InvalidPasswordException ||
      error instanceof CodeDeliveryFailureException
    )
      return { outcome: "refused" };
    throw error;
  }
}

/** Deletes an account; one already gone is fine (two clean-ups of the same account may race). */
export async function deleteAccount(username: string): Promise<void> {
  try {
    await aws("cognito").send(new AdminDeleteUserCommand({ ...pool(), Username: username }));
  } catch (error) {
    if (!(error instanceof UserNotFoundException)) throw error;
  }
}

/**
 * Makes the account match what the directory says, idempotently: member of exactly its role's group,
 * enabled exactly when active. Safe to repeat after a partial failure. A disabled Cognito user can
 * neither sign in nor refresh a token (and the API refuses their still-valid ID token from the next
 * request on, because it reads the directory on every request).
 */
export async function applyIdentity(
  username: string,
  desired: { role: Role; status: "active" | "disabled" },
): Promise<void> {
  const cognito = aws("cognito");
  const address = { ...pool(), Username: username };
  // Disable first and enable last: the account is never usable with a role it should not have.
  if (desired.status !== "active") await cognito.send(new AdminDisableUserCommand(address));
  const groups = await cognito.send(new AdminListGroupsForUserCommand(address));
  const roles = (groups.Groups ?? []).map((group) => group.GroupName).filter((name) => isRole(name));
  if (!roles.includes(desired.role))
    await cognito.send(new AdminAddUserToGroupCommand({ ...address, GroupName: desired.role }));
  for (const role of roles.filter((name) => name !== desired.role))
    await cognito.send(new AdminRemoveUserFromGroupCommand({ ...address, GroupName: role }));
  if (desired.status === "active") await cognito.send(new AdminEnableUserCommand(address));
}
