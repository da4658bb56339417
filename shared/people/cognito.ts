import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminRemoveUserFromGroupCommand,
  UsernameExistsException,
} from "@aws-sdk/client-cognito-identity-provider";
import type { Role } from "../auth/roles";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ConflictError } from "../errors";

/** The Cognito side of managing people: accounts, role groups, enable/disable. */
const pool = () => ({ UserPoolId: getConfig().USER_POOL_ID });

/** Creates the account (Cognito emails a temporary password) and returns its immutable id (`sub`). */
export async function createAccount(email: string, orgId: string, role: Role): Promise<string> {
  try {
    const out = await aws("cognito").send(
      new AdminCreateUserCommand({
        ...pool(),
        Username: email,
        DesiredDeliveryMediums: ["EMAIL"],
        UserAttributes: [
          { Name: "email", Value: email },
          { Name: "email_verified", Value: "true" },
          { Name: "custom:orgId", Value: orgId },
        ],
      }),
    );
    const sub = out.User?.Attributes?.find((attribute) => attribute.Name === "sub")?.Value;
    if (!sub) throw new Error("AdminCreateUser returned no sub");
    await aws("cognito").send(
      new AdminAddUserToGroupCommand({ ...pool(), Username: email, GroupName: role }),
    );
    return sub;
  } catch (error) {
    if (error instanceof UsernameExistsException)
      throw new ConflictError("USER_EXISTS", "A user with this email exists.");
    throw error;
  }
}

export async function deleteAccount(email: string): Promise<void> {
  await aws("cognito").send(new AdminDeleteUserCommand({ ...pool(), Username: email }));
}

export async function changeRole(email: string, from: Role, to: Role): Promise<void> {
  await aws("cognito").send(new AdminAddUserToGroupCommand({ ...pool(), Username: email, GroupName: to }));
  await aws("cognito").send(
    new AdminRemoveUserFromGroupCommand({ ...pool(), Username: email, GroupName: from }),
  );
}

/**
 * A disabled Cognito user can neither sign in nor refresh a token; the API refuses their still-valid
 * ID token from the next request on, because it checks the directory entry on every request.
 */
export async function setEnabled(email: string, enabled: boolean): Promise<void> {
  const command = enabled
    ? new AdminEnableUserCommand({ ...pool(), Username: email })
    : new AdminDisableUserCommand({ ...pool(), Username: email });
  await aws("cognito").send(command);
}
