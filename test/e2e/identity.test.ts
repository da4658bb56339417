import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  UpdateUserAttributesCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { newPassword } from "../../infra/local/provision";
import { signIn } from "../../infra/local/sign-in";
import { aws } from "../../shared/aws";
import { getUser, userItem } from "../../shared/people";
import { cognitoState, firstSignIn } from "../support/people";
import { testStack } from "../support/stack";

/**
 * Identity follows the directory, and Cognito is addressed by the account's immutable username: a coach
 * who changes their own email in Cognito (UpdateUserAttributes with their access token, which the local
 * stand-in allows whatever the app client's write attributes say; the cloud's app client forbids it, see
 * infra/cloud/stack.test.ts) can still be disabled, and the directory and Cognito agree afterwards.
 */
const stack = testStack();
const { api } = stack;
const pool = { UserPoolId: stack.endpoints.userPoolId };
let admin: string;
let unique = 0;

beforeAll(async () => {
  admin = await stack.token("admin@demo.example");
});

/** A coach of org demo made the way the seed makes them, signed in once (new password, TOTP). */
async function enrolledCoach() {
  const email = `identity${unique++}.${Date.now()}@demo.example`;
  const temporaryPassword = newPassword();
  const created = await aws("cognito").send(
    new AdminCreateUserCommand({
      ...pool,
      Username: email,
      TemporaryPassword: temporaryPassword,
      MessageAction: "SUPPRESS",
      UserAttributes: [
        { Name: "email", Value: email },
        { Name: "email_verified", Value: "true" },
        { Name: "custom:orgId", Value: "demo" },
      ],
    }),
  );
  const username = created.User?.Username as string;
  const userId = created.User?.Attributes?.find((a) => a.Name === "sub")?.Value as string;
  await aws("cognito").send(
    new AdminAddUserToGroupCommand({ ...pool, Username: username, GroupName: "coach" }),
  );
  const now = new Date().toISOString();
  await aws("dynamo").send(
    new PutCommand({
      TableName: stack.endpoints.tables.directory,
      Item: userItem({
        userId,
        username,
        orgId: "demo",
        email,
        role: "coach",
        status: "active",
        version: 1,
        createdAt: now,
        updatedAt: now,
      }),
    }),
  );
  const enrolled = await firstSignIn(stack.endpoints.userPoolClientId, email, temporaryPassword);
  return { email, username, userId, ...enrolled };
}

describe("a coach who changes their own email", () => {
  it("can still be disabled and re-enabled; the directory and Cognito agree", async () => {
    const coach = await enrolledCoach();
    const idToken = await signIn(stack.endpoints.userPoolClientId, coach);
    expect((await api("GET", "/clients", { token: idToken })).status).toBe(200);

    // The local stand-in does not enforce the app client's write attributes: the change goes through.
    const moved = `moved${unique++}.${Date.now()}@elsewhere.example`;
    await aws("cognito").send(
      new UpdateUserAttributesCommand({
        AccessToken: coach.accessToken,
        UserAttributes: [{ Name: "email", Value: moved }],
      }),
    );
    expect((await cognitoState(coach.username)).email).toBe(moved);

    const disabled = await api("PATCH", `/users/${coach.userId}`, {
      token: admin,
      body: { version: 1, status: "disabled" },
    });
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.json).toMatchObject({ status: "disabled", version: 2 });
    expect(disabled.json.identitySync).toBeUndefined();
    expect((await getUser("demo", coach.userId))?.status).toBe("disabled");
    expect(await cognitoState(coach.username)).toMatchObject({ enabled: false, groups: ["coach"] });
    const refused = await api("GET", "/clients", { token: idToken });
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe("ACCOUNT_DISABLED");

    const promoted = await api("PATCH", `/users/${coach.userId}`, {
      token: admin,
      body: { version: 2, status: "active", role: "coach_lead" },
    });
    expect(promoted.status, promoted.text).toBe(200);
    expect(await cognitoState(coach.username)).toMatchObject({ enabled: true, groups: ["coach_lead"] });
    expect(await getUser("demo", coach.userId)).toMatchObject({ status: "active", role: "coach_lead" });
  });
});
