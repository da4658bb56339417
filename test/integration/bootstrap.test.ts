import { spawnSync } from "node:child_process";
import { AdminCreateUserCommand, AdminGetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { bootstrapOrgAdmin } from "../../functions/users/bootstrap";
import { signIn } from "../../infra/local/sign-in";
import { readOrgChains } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { listOrgs, listUsers } from "../../shared/people";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { cognitoState, firstSignIn } from "../support/people";
import { testStack } from "../support/stack";

/**
 * `npm run bootstrap`: an org's first admin, against the running test stack. The script is spawned the
 * way an operator runs it; hostile arguments and refusals go through its inner function too.
 */
const stack = testStack();
const pool = { UserPoolId: stack.endpoints.userPoolId };

beforeAll(() => installFaultInjector());

/** The username of the account an address signs in with. */
const usernameOf = async (email: string) =>
  (await aws("cognito").send(new AdminGetUserCommand({ ...pool, Username: email }))).Username as string;

function bootstrap(...args: string[]) {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "infra/local/bootstrap.ts", ...args, "--dir", stack.dir],
    { encoding: "utf8", env: { ...process.env, LOG_LEVEL: "SILENT" } },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const auditOf = async (orgId: string) =>
  (await readOrgChains(orgId)).flat().map((item) => JSON.parse(item.entry));

const accountExists = (email: string) =>
  aws("cognito")
    .send(new AdminGetUserCommand({ ...pool, Username: email }))
    .then(() => true)
    .catch((error: Error) => (error.name === "UserNotFoundException" ? false : Promise.reject(error)));

describe("npm run bootstrap", () => {
  it("creates an org's first admin: directory entry, Cognito admin of the org, audited as the system; a second run refuses", async () => {
    const email = `first.admin.${Date.now()}@boot-one.example`;
    const run = bootstrap("--org", "boot-one", "--email", email);
    expect(run.code, run.stderr).toBe(0);
    const temporaryPassword = /temporary password .*: (\S+)$/m.exec(run.stdout)?.[1] as string;
    expect(temporaryPassword).toBeDefined();

    const [admin] = await listUsers("boot-one");
    expect(admin).toMatchObject({ email, role: "admin", status: "active", version: 1 });
    expect(admin?.identitySync).toBeUndefined();
    expect(await cognitoState(admin?.username as string)).toMatchObject({
      enabled: true,
      orgId: "boot-one",
      sub: admin?.userId,
      groups: ["admin"],
    });
    expect(await listOrgs()).toContain("boot-one");
    const entries = await auditOf("boot-one");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: "user.create",
      actor: { type: "service", id: "system:bootstrap", orgId: "boot-one" },
      resource: { type: "user", id: admin?.userId },
      fields: ["email", "role", "status"],
      outcome: "success",
    });

    const second = bootstrap("--org", "boot-one", "--email", `second.${Date.now()}@boot-one.example`);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already has an admin/);
    expect(await listUsers("boot-one")).toHaveLength(1);
    expect(await auditOf("boot-one")).toHaveLength(1);

    // First sign-in: a new password and TOTP enrolment; then the admin uses the API.
    const enrolled = await firstSignIn(stack.endpoints.userPoolClientId, email, temporaryPassword);
    const token = await signIn(stack.endpoints.userPoolClientId, { email, ...enrolled });
    const users = await stack.api("GET", "/users", { token });
    expect(users.status).toBe(200);
    expect(users.json.items.map((user: { email: string }) => user.email)).toEqual([email]);
  });

  it("refuses hostile or missing arguments (exit 1) and cannot run without a stack (exit 2); nothing is created", async () => {
    for (const args of [
      ["--org", "../demo", "--email", "x@boot-bad.example"],
      ["--org", "BOOT", "--email", "x@boot-bad.example"],
      ["--org", "boot-bad", "--email", "not-an-address"],
      ["--org", "boot-bad"],
      ["--org", "boot-bad", "--email", "x@boot-bad.example", "--role", "admin"],
    ]) {
      const run = bootstrap(...args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toMatch(/usage|invalid/);
      expect(run.stdout).not.toMatch(/password/);
    }
    for (const input of [
      { orgId: "demo; rm -rf /", email: "x@boot-bad.example" },
      { orgId: "a", email: "x@boot-bad.example" },
      { orgId: `b${"x".repeat(63)}`, email: "x@boot-bad.example" },
      { orgId: "boot-bad", email: "x@boot-bad.example\nBcc: y@evil.example" },
      { orgId: "boot-bad", email: `${"x".repeat(250)}@boot-bad.example` },
      { orgId: "boot-bad", email: "" },
      {},
    ])
      expect((await bootstrapOrgAdmin(input)).outcome).toBe("refused");
    expect(await accountExists("x@boot-bad.example")).toBe(false);
    expect(await listUsers("boot-bad")).toEqual([]);
    const elsewhere = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "infra/local/bootstrap.ts",
        "--org",
        "boot-bad",
        "--email",
        "x@boot-bad.example",
        "--dir",
        "/nonexistent",
      ],
      { encoding: "utf8" },
    );
    expect(elsewhere.status).toBe(2);
  });

  it("refuses an org that already has an admin, and an address with an account in another org", async () => {
    expect(await bootstrapOrgAdmin({ orgId: "demo", email: `x.${Date.now()}@demo.example` })).toMatchObject({
      outcome: "refused",
      reason: "org demo already has an admin",
    });
    const before = await cognitoState(
      stack.users.find((u) => u.email === "coach1@demo.example")?.username as string,
    );
    expect(await bootstrapOrgAdmin({ orgId: "boot-taken", email: "coach1@demo.example" })).toMatchObject({
      outcome: "refused",
    });
    expect(await listUsers("boot-taken")).toEqual([]);
    expect(await auditOf("boot-taken")).toEqual([]);
    expect(
      await cognitoState(stack.users.find((u) => u.email === "coach1@demo.example")?.username as string),
    ).toEqual(before);
  });

  it("a run that stopped after creating the account is run again and adopts it", async () => {
    const email = `adopted.${Date.now()}@boot-again.example`;
    // The first run creates the account, then its commit fails (DynamoDB throttled after the SDK's retries).
    arm({
      target: { service: "dynamo", operation: "TransactWriteItemsCommand", occurrence: 0 },
      kind: "throttling",
    });
    const stopped = await bootstrapOrgAdmin(
      { orgId: "boot-again", email },
      { temporaryPassword: "Unused-1aA!x" },
    ).then(
      () => "finished",
      () => "stopped",
    );
    disarm();
    expect(stopped).toBe("stopped");
    expect(await listUsers("boot-again")).toEqual([]);
    const left = await aws("cognito").send(new AdminGetUserCommand({ ...pool, Username: email }));
    const sub = left.UserAttributes?.find((a) => a.Name === "sub")?.Value;

    const result = await bootstrapOrgAdmin(
      { orgId: "boot-again", email },
      { temporaryPassword: "Unused-1aA!x" },
    );
    expect(result).toEqual({ outcome: "created", userId: sub, synced: true });
    expect(await cognitoState(left.Username as string)).toMatchObject({ groups: ["admin"] });
  });

  it("never adopts an account someone planted with the org before the run (a password they know): refused", async () => {
    const email = `planted.${Date.now()}@boot-planted.example`;
    await aws("cognito").send(
      new AdminCreateUserCommand({
        ...pool,
        Username: email,
        TemporaryPassword: "Planted-1aA!x",
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: email },
          { Name: "custom:orgId", Value: "boot-planted" },
        ],
      }),
    );
    // Planted just before (a moment is enough).
    expect(await bootstrapOrgAdmin({ orgId: "boot-planted", email })).toEqual({
      outcome: "refused",
      reason: "the address already has an account",
    });
    expect(await listUsers("boot-planted")).toEqual([]);
    expect(await auditOf("boot-planted")).toEqual([]);
    expect((await cognitoState(await usernameOf(email))).groups).toEqual([]);
  });

  it("a run that loses the once-per-org race deletes the account it made, even one the SDK's re-sent creation reported as existing", async () => {
    const email = `resent.${Date.now()}@boot-resent.example`;
    // Another run has just committed the org's first admin (its marker), after this run read the directory.
    await aws("dynamo").send(
      new PutCommand({
        TableName: stack.endpoints.tables.directory,
        Item: {
          pk: "ORG#boot-resent",
          sk: "BOOTSTRAP",
          userId: "the-winner",
          createdAt: new Date().toISOString(),
        },
      }),
    );
    arm({
      target: { service: "cognito", operation: "AdminCreateUserCommand", occurrence: 0 },
      kind: "resent",
    });
    const result = await bootstrapOrgAdmin(
      { orgId: "boot-resent", email },
      { temporaryPassword: "Resent-1aA!x" },
    );
    const { fired } = recorded();
    disarm();
    expect(fired).toBe(true);
    expect(result).toEqual({ outcome: "refused", reason: "org boot-resent already has an admin" });
    expect(await accountExists(email)).toBe(false);
  });

  it("two runs at once for one org make exactly one admin and leave no second account", async () => {
    const emails = [`race.a.${Date.now()}@boot-race.example`, `race.b.${Date.now()}@boot-race.example`];
    const results = await Promise.all(
      emails.map((email) =>
        bootstrapOrgAdmin({ orgId: "boot-race", email }, { temporaryPassword: "Race-1aA!xyz" }),
      ),
    );
    expect(results.map((result) => result.outcome).sort()).toEqual(["created", "refused"]);
    const admins = await listUsers("boot-race");
    expect(admins).toHaveLength(1);
    const loser = emails.find((email) => email !== admins[0]?.email) as string;
    expect(await accountExists(loser)).toBe(false);
  });
});
