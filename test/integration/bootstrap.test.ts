import { spawnSync } from "node:child_process";
import { AdminCreateUserCommand, AdminGetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { describe, expect, it } from "vitest";
import { bootstrapOrgAdmin } from "../../functions/users/bootstrap";
import { signIn } from "../../infra/local/sign-in";
import { readOrgChains } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { listOrgs, listUsers } from "../../shared/people";
import { cognitoState, firstSignIn } from "../support/people";
import { testStack } from "../support/stack";

/**
 * `npm run bootstrap`: an org's first admin, against the running test stack. The script is spawned the
 * way an operator runs it; hostile arguments and refusals go through its inner function too.
 */
const stack = testStack();
const pool = { UserPoolId: stack.endpoints.userPoolId };

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
    const created = await aws("cognito").send(
      new AdminCreateUserCommand({
        ...pool,
        Username: email,
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: email },
          { Name: "custom:orgId", Value: "boot-again" },
        ],
      }),
    );
    const result = await bootstrapOrgAdmin(
      { orgId: "boot-again", email },
      { temporaryPassword: "Unused-1aA!x" },
    );
    const sub = created.User?.Attributes?.find((a) => a.Name === "sub")?.Value;
    expect(result).toEqual({ outcome: "created", userId: sub, synced: true });
    expect(await cognitoState(created.User?.Username as string)).toMatchObject({ groups: ["admin"] });
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
