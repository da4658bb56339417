import { randomUUID } from "node:crypto";
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { InitializeHandler, InitializeHandlerArguments } from "@smithy/types";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type InvitationRecord, recordInvitation } from "../../functions/users/invitations";
import { run as processInvite } from "../../functions/users/process-invite.job";
import type { Principal } from "../../shared/auth";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { logger } from "../../shared/log";
import { getUser, listUsers, userKey } from "../../shared/people";
import { invokeRoute } from "../support/invoke";
import { inviteUser, jobInvocation } from "../support/people";
import { testStack } from "../support/stack";

/**
 * The `processInvite` job acts on an invitation later than it was made, so it checks again what allowed
 * it (the inviter an active admin of the org, the lead an active lead), and it adopts an account that
 * already exists for the address only when that account is provably this invitation's own earlier
 * attempt. Any other case fails the invitation: the admin sees `failed` and nothing else; the reason goes
 * to the operators' log (`INVITATION_FAILED`).
 */
const stack = testStack();
const { api } = stack;
let admin: string;
let adminPrincipal: Principal;
const meta = { requestId: "invitation-job", sourceIp: "127.0.0.1", userAgent: "vitest" };
const pool = () => ({ UserPoolId: getConfig().USER_POOL_ID });
const address = (label: string) => `${label}.${randomUUID().slice(0, 8)}@demo.example`;

beforeAll(async () => {
  admin = await stack.token("admin@demo.example");
  const demoAdmin = stack.users.find((user) => user.email === "admin@demo.example");
  adminPrincipal = { userId: demoAdmin?.userId as string, orgId: "demo", role: "admin" };
});

afterEach(() => vi.restoreAllMocks());

const processed = (invite: InvitationRecord) =>
  processInvite({ orgId: "demo", inviteId: invite.inviteId }, jobInvocation("processInvite"));

const accountExists = (email: string) =>
  aws("cognito")
    .send(new AdminGetUserCommand({ ...pool(), Username: email }))
    .then(() => true)
    .catch((error: Error) => (error.name === "UserNotFoundException" ? false : Promise.reject(error)));

/** What the org's admins see of an invitation. */
async function adminView(inviteId: string) {
  const list = await invokeRoute("GET", "/users/invites", { token: admin });
  return list.json.items.find((item: { inviteId: string }) => item.inviteId === inviteId);
}

/** The invitation failed: the admin sees only that, the operators' log says why. */
async function expectFailed(invite: InvitationRecord, warn: ReturnType<typeof vi.spyOn>, reason: string) {
  const seen = await adminView(invite.inviteId);
  expect(seen.status).toBe("failed");
  expect(Object.keys(seen).sort()).toEqual(
    [
      "inviteId",
      "email",
      "role",
      "status",
      "invitedBy",
      "createdAt",
      "updatedAt",
      ...(invite.leadId ? ["leadId"] : []),
    ].sort(),
  );
  expect(warn).toHaveBeenCalledWith(
    "invitation failed",
    expect.objectContaining({ securityEvent: "INVITATION_FAILED", inviteId: invite.inviteId, reason }),
  );
  expect((await listUsers("demo")).map((user) => user.email)).not.toContain(invite.email);
}

async function versionOf(userId: string) {
  return (await getUser("demo", userId))?.version as number;
}

const patchUser = async (userId: string, body: { status?: "disabled"; role?: Role }) => {
  const res = await invokeRoute("PATCH", `/users/${userId}`, {
    token: admin,
    body: { version: await versionOf(userId), ...body },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
};

describe("the invitation job checks again what allowed the invitation", () => {
  it("an inviter disabled since the invitation: it fails, and no account is created", async () => {
    const rogueId = await inviteUser(api, admin, { email: address("rogue"), role: "admin" });
    const invite = await recordInvitation({ userId: rogueId, orgId: "demo", role: "admin" }, meta, {
      email: address("minted"),
      role: "admin",
    });
    await patchUser(rogueId, { status: "disabled" });
    const warn = vi.spyOn(logger, "warn");
    expect(await processed(invite)).toEqual({ status: "failed" });
    await expectFailed(invite, warn, "inviter_not_active_admin");
    expect(await accountExists(invite.email)).toBe(false);
  });

  it("a lead who is no longer an active lead: it fails", async () => {
    const leadId = await inviteUser(api, admin, { email: address("former.lead"), role: "coach_lead" });
    const invite = await recordInvitation(adminPrincipal, meta, {
      email: address("team.hire"),
      role: "coach",
      leadId,
    });
    await patchUser(leadId, { role: "coach" });
    const warn = vi.spyOn(logger, "warn");
    expect(await processed(invite)).toEqual({ status: "failed" });
    await expectFailed(invite, warn, "lead_not_active_lead");
  });

  it("an inviter disabled while the job runs (after its check, before its commit): the commit refuses, it fails", async () => {
    const inviterId = await inviteUser(api, admin, { email: address("racing.admin"), role: "admin" });
    const invite = await recordInvitation({ userId: inviterId, orgId: "demo", role: "admin" }, meta, {
      email: address("raced"),
      role: "coach",
    });
    const cognito = aws("cognito");
    cognito.middlewareStack.add(
      (next: InitializeHandler<any, any>, context) => async (args: InitializeHandlerArguments<any>) => {
        const out = await next(args);
        if (context.commandName === "AdminCreateUserCommand")
          await aws("dynamo").send(
            new UpdateCommand({
              TableName: getConfig().TABLE_DIRECTORY,
              Key: userKey("demo", inviterId),
              UpdateExpression: "SET #s = :disabled",
              ExpressionAttributeNames: { "#s": "status" },
              ExpressionAttributeValues: { ":disabled": "disabled" },
            }),
          );
        return out;
      },
      { step: "initialize", name: "disableInviterMidway" },
    );
    const warn = vi.spyOn(logger, "warn");
    try {
      expect(await processed(invite)).toEqual({ status: "failed" });
    } finally {
      cognito.middlewareStack.remove("disableInviterMidway");
    }
    await expectFailed(invite, warn, "inviter_or_lead_changed");
  });
});

describe("the invitation job adopts only its own earlier attempt", () => {
  it("the local Cognito reports an account's creation to the millisecond, as the service does", async () => {
    const email = address("clock");
    const before = Date.now();
    await aws("cognito").send(
      new AdminCreateUserCommand({
        ...pool(),
        Username: email,
        MessageAction: "SUPPRESS",
        UserAttributes: [{ Name: "email", Value: email }],
      }),
    );
    const after = Date.now();
    const created = (await aws("cognito").send(new AdminGetUserCommand({ ...pool(), Username: email })))
      .UserCreateDate as Date;
    expect(created.getTime()).toBeGreaterThanOrEqual(before);
    expect(created.getTime()).toBeLessThanOrEqual(after);
  });

  it("an account planted with the org before the invitation (a password someone knows) is not adopted", async () => {
    const email = address("planted");
    await aws("cognito").send(
      new AdminCreateUserCommand({
        ...pool(),
        Username: email,
        TemporaryPassword: "Planted-Passw0rd!",
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: email },
          { Name: "email_verified", Value: "true" },
          { Name: "custom:orgId", Value: "demo" },
        ],
      }),
    );
    // Planted just before (a moment is enough).
    const invite = await recordInvitation(adminPrincipal, meta, { email, role: "coach" });
    const warn = vi.spyOn(logger, "warn");
    expect(await processed(invite)).toEqual({ status: "failed" });
    await expectFailed(invite, warn, "exists_not_this_invitation");
  });

  it("an account made after the invitation but already signed in with (not the invitation's) is not adopted", async () => {
    const email = address("confirmed");
    const invite = await recordInvitation(adminPrincipal, meta, { email, role: "coach" });
    await aws("cognito").send(
      new AdminCreateUserCommand({
        ...pool(),
        Username: email,
        MessageAction: "SUPPRESS",
        UserAttributes: [
          { Name: "email", Value: email },
          { Name: "custom:orgId", Value: "demo" },
        ],
      }),
    );
    await aws("cognito").send(
      new AdminSetUserPasswordCommand({
        ...pool(),
        Username: email,
        Password: "Known-Passw0rd!",
        Permanent: true,
      }),
    );
    const warn = vi.spyOn(logger, "warn");
    expect(await processed(invite)).toEqual({ status: "failed" });
    await expectFailed(invite, warn, "exists_not_this_invitation");
  });
});
