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

export type Account = { username: string; sub: string; orgId: string | undefined };

export type CreateAccountResult =
  /** A new account (Cognito emails it a temporary password unless one was given). */
  | { outcome: "created"; account: Account }
  /** The address already has an account: this one (in the caller's org or another). */
  | { outcome: "exists"; account: Account }
  /** Cognito refused the address itself (invalid, undeliverable). */
  | { outcome: "refused" };

const attribute = (attributes: AttributeType[] | undefined, name: string) =>
  attributes?.find((candidate) => candidate.Name === name)?.Value;

function accountOf(username: string | undefined, attributes: AttributeType[] | undefined): Account {
  const sub = attribute(attributes, "sub");
  if (!username || !sub) throw new Error("Cognito returned an account without username or sub");
  return { username, sub, orgId: attribute(attributes, "custom:orgId") };
}

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
    return { outcome: "created", account: accountOf(out.User?.Username, out.User?.Attributes) };
  } catch (error) {
    if (error instanceof UsernameExistsException || error instanceof AliasExistsException) {
      const existing = await aws("cognito").send(new AdminGetUserCommand({ ...pool(), Username: email }));
      return { outcome: "exists", account: accountOf(existing.Username, existing.UserAttributes) };
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

export async function deleteAccount(username: string): Promise<void> {
  await aws("cognito").send(new AdminDeleteUserCommand({ ...pool(), Username: username }));
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
