import { beforeAll, describe, expect, it } from "vitest";
import { syncPending } from "../../functions/users/identity-sync.job";
import { recordInvitation } from "../../functions/users/invitations";
import { run as processInvite } from "../../functions/users/process-invite.job";
import { readOrgChains } from "../../shared/audit";
import type { Principal } from "../../shared/auth";
import type { Role } from "../../shared/auth/roles";
import { resetConfig } from "../../shared/config";
import { getUser, listPendingIdentityWork, listUsers } from "../../shared/people";
import {
  arm,
  type Call,
  disarm,
  type FaultKind,
  hasCondition,
  installFaultInjector,
  recorded,
} from "../support/faults";
import { invokeRoute } from "../support/invoke";
import { cognitoState, jobInvocation, settledInvitation } from "../support/people";
import { testStack } from "../support/stack";

/**
 * The `processInvite` job under Lambda's retries and AWS faults: whatever call fails once, the retry
 * and the scheduled identity sync leave exactly one account per invitation, with its directory entry,
 * its role's group and its org, and the invitation `sent` with that account's id. Never an account
 * without a directory entry; never a good invitation marked failed.
 */
const stack = testStack();
let admin: string;
let principal: Principal;
const meta = { requestId: "reliability", sourceIp: "127.0.0.1", userAgent: "vitest" };
let unique = 0;

beforeAll(async () => {
  admin = await stack.token("admin@demo.example");
  const adminUser = stack.users.find((user) => user.email === "admin@demo.example");
  principal = { userId: adminUser?.userId as string, orgId: "demo", role: "admin" };
  installFaultInjector();
});

/** A recorded invitation whose job was never started (as when its start failed). */
const held = (email: string, role: Role = "coach") => recordInvitation(principal, meta, { email, role });
const processInvitation = (inviteId: string) =>
  processInvite({ orgId: "demo", inviteId }, jobInvocation("processInvite"));

async function expectOneGoodAccount(inviteId: string, email: string, role: Role) {
  const list = await invokeRoute("GET", "/users/invites", { token: admin });
  const invite = list.json.items.find((item: { inviteId: string }) => item.inviteId === inviteId);
  expect(invite).toMatchObject({ status: "sent", userId: expect.any(String) });
  const entries = (await listUsers("demo")).filter((user) => user.email === email);
  expect(entries).toHaveLength(1);
  const user = await getUser("demo", invite.userId);
  expect(user).toMatchObject({ email, role, status: "active", version: 1 });
  expect(user?.identitySync).toBeUndefined();
  expect(await cognitoState(user?.username as string)).toMatchObject({
    enabled: true,
    orgId: "demo",
    email,
    sub: invite.userId,
    groups: [role],
  });
  const pending = await listPendingIdentityWork();
  expect(pending.some((work) => work.kind === "invite" && work.inviteId === inviteId)).toBe(false);
  expect(pending.some((work) => work.kind === "user" && work.userId === invite.userId)).toBe(false);
}

function faultsFor(call: Call): FaultKind[] {
  if (call.service === "cognito") return ["throttling", "server", "timeout"];
  return ["throttling", "timeout", ...(hasCondition(call) ? (["conditional"] as const) : [])];
}

describe("processInvite under retries and faults", () => {
  it("each AWS call failing once: the retry and the identity sync leave one good account", async () => {
    const clean = await held(`clean.${Date.now()}@demo.example`);
    arm();
    expect(await processInvitation(clean.inviteId)).toEqual({ status: "sent" });
    const calls = recorded().calls;
    disarm();
    await expectOneGoodAccount(clean.inviteId, clean.email, "coach");
    expect(calls.map((call) => call.operation)).toContain("AdminCreateUserCommand");

    for (const [index, call] of calls.entries()) {
      for (const kind of faultsFor(call)) {
        const email = `retry${unique++}.${Date.now()}@demo.example`;
        const invite = await held(email);
        arm({ target: { index }, kind });
        await processInvitation(invite.inviteId).catch(() => undefined);
        disarm();
        // Lambda's retry of the same event, then the scheduled sync.
        await processInvitation(invite.inviteId);
        await syncPending();
        await expectOneGoodAccount(invite.inviteId, email, "coach");
      }
    }
  });

  it("a retry of a settled invitation does nothing", async () => {
    const invite = await held(`settled.${Date.now()}@demo.example`);
    await processInvitation(invite.inviteId);
    const entries = async () => (await readOrgChains("demo")).reduce((n, chain) => n + chain.length, 0);
    const before = await entries();
    arm();
    expect(await processInvitation(invite.inviteId)).toEqual({ status: "sent" });
    expect(recorded().calls.map((call) => call.operation)).toEqual(["GetItemCommand"]);
    disarm();
    expect(await entries()).toBe(before);
  });

  it("two invitations of one address at once: one is sent, the other fails, and Cognito follows the winner", async () => {
    const email = `twice.${Date.now()}@demo.example`;
    const [asCoach, asLead] = [await held(email, "coach"), await held(email, "coach_lead")];
    const outcomes = await Promise.all([
      processInvitation(asCoach.inviteId),
      processInvitation(asLead.inviteId),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(["failed", "sent"]);
    await syncPending();
    const winner = outcomes[0]?.status === "sent" ? asCoach : asLead;
    await expectOneGoodAccount(winner.inviteId, email, winner.role);
  });

  it("an invitation whose job never starts still answers 202, and the identity sync starts it again", async () => {
    const email = `unstarted.${Date.now()}@demo.example`;
    const prefix = process.env.FUNCTION_NAME_PREFIX;
    process.env.FUNCTION_NAME_PREFIX = "coachvault-nowhere-";
    resetConfig();
    let res: Awaited<ReturnType<typeof invokeRoute>>;
    try {
      res = await invokeRoute("POST", "/users", { token: admin, body: { email, role: "coach" } });
    } finally {
      process.env.FUNCTION_NAME_PREFIX = prefix;
      resetConfig();
      installFaultInjector();
    }
    expect(res.status).toBe(202);
    const list = await invokeRoute("GET", "/users/invites", { token: admin });
    expect(
      list.json.items.find((item: { inviteId: string }) => item.inviteId === res.json.inviteId).status,
    ).toBe("pending");
    await syncPending({ inviteGraceMs: 0 });
    // The job runs where the stack serves Lambda (asynchronously, as in the cloud).
    await settledInvitation(stack.api, admin, res.json.inviteId);
    await expectOneGoodAccount(res.json.inviteId, email, "coach");
  });
});
