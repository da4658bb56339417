import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { changeKey } from "../../shared/access/two-person";
import type { Role } from "../../shared/auth/roles";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { inviteUser, tokenFor, touchedDaysAgo } from "../support/people";
import { testStack } from "../support/stack";

/**
 * The two-person rule over HTTPS: an admin who invited or changed an account (or whose circle did: an
 * admin they invited or changed, or who invited or changed them, within the window) cannot, alone, make
 * that account able to read PHI (assignment, reassignment, team lead, PHI-reading role, re-enabling).
 * The change is held (202) until another admin or a lead approves it; no one in the requester's or a
 * grantee's circle can decide it.
 */
const stack = testStack();
const { api } = stack;
const idOf = (email: string) => stack.users.find((user) => user.email === email)?.userId as string;

let admin: string;
let lead: string;
let coach1: string;
let compliance: string;
let otherAdmin: string;
/**
 * A second admin of the demo org, independent of the demo admin: invited by them, but so long ago (past
 * the window) that neither is in the other's circle; it has touched none of the accounts below.
 */
let admin2: Account;

type Account = { userId: string; email: string; role: Role; token: string };

/** A fresh account invited by the demo admin (so the admin is in its `touchedBy`), with a token of its own. */
async function account(role: Role, label: string, inviter = admin, leadId?: string): Promise<Account> {
  const email = `${label}.${randomUUID().slice(0, 8)}@demo.example`;
  const userId = await inviteUser(api, inviter, { email, role, ...(leadId && { leadId }) });
  return { userId, email, role, token: await tokenFor(coach1, { userId, email, role }) };
}

/** As if the demo admin had last invited or changed the account `days` ago. */
const touched = (user: Account, days: number) =>
  touchedDaysAgo("demo", user.userId, days, [idOf("admin@demo.example")]);

async function newClient(name: string) {
  const res = await api("POST", "/clients", { token: coach1, body: { name } });
  expect(res.status).toBe(201);
  return res.json.clientId as string;
}

const coachesOf = async (clientId: string) =>
  (await api("GET", `/clients/${clientId}`, { token: admin })).json.coaches as string[];

const read = (clientId: string, user: Account) => api("GET", `/clients/${clientId}`, { token: user.token });

async function versionOf(userId: string): Promise<number> {
  const users = (await api("GET", "/users", { token: admin })).json.items as {
    userId: string;
    version: number;
  }[];
  return users.find((user) => user.userId === userId)?.version as number;
}

const decide = (changeId: string, verdict: "approve" | "reject", token: string) =>
  api("POST", `/changes/${changeId}/${verdict}`, { token });

const pendingIds = async (token: string) =>
  ((await api("GET", "/changes", { token })).json.items as { changeId: string }[]).map((c) => c.changeId);

/** Waits for the API to log a security event naming an id (the log is written by the stack's process). */
async function securityEvent(name: string, changeId: string) {
  for (let attempt = 0; attempt < 30; attempt++) {
    const lines = readFileSync(stack.logFile, "utf8").split("\n");
    const found = lines.find((line) => line.includes(`"securityEvent":"${name}"`) && line.includes(changeId));
    if (found) return JSON.parse(found) as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${name} security event for the change`);
}

/** The audit entries of an action that name a change (as a compliance officer finds them). */
async function auditedFor(changeId: string, action: string) {
  const res = await api("GET", `/audit/entries?action=${action}&limit=100`, { token: compliance });
  expect(res.status).toBe(200);
  return (res.json.items as { entry: { actor: { id: string }; resource: Record<string, unknown> } }[])
    .map((found) => found.entry)
    .filter((entry) => entry.resource.id === changeId);
}

beforeAll(async () => {
  [admin, lead, coach1, compliance, otherAdmin] = (await Promise.all(
    [
      "admin@demo.example",
      "lead@demo.example",
      "coach1@demo.example",
      "compliance@demo.example",
      "admin@other.example",
    ].map((email) => stack.token(email)),
  )) as [string, string, string, string, string];
  admin2 = await account("admin", "second.admin");
  await touched(admin2, 60);
});

describe("the two-person rule", () => {
  it("holds an admin's assignment of an account they just invited: 202, nothing readable until a lead approves", async () => {
    const invited = await account("coach", "controlled");
    const clientId = await newClient("Held Assignment");
    const held = await api("PUT", `/clients/${clientId}/coaches/${invited.userId}`, { token: admin });
    expect(held.status).toBe(202);
    expect(held.json).toMatchObject({
      kind: "assign",
      status: "pending",
      requesterId: idOf("admin@demo.example"),
      granteeIds: [invited.userId],
      change: { op: "assign", clientId, coachId: invited.userId },
    });
    expect(held.text).not.toContain("Held Assignment");
    const { changeId } = held.json;
    expect((await read(clientId, invited)).status).toBe(404);
    expect((await api("GET", "/clients", { token: invited.token })).json.items).toEqual([]);
    expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example")]);
    expect(await pendingIds(lead)).toContain(changeId);
    expect(await pendingIds(admin)).toContain(changeId);
    expect(await securityEvent("PHI_GRANT_HELD", changeId)).toMatchObject({
      kind: "assign",
      requesterId: idOf("admin@demo.example"),
    });

    const approved = await decide(changeId, "approve", lead);
    expect(approved.status, approved.text.slice(0, 200)).toBe(200);
    expect(approved.json).toMatchObject({
      changeId,
      status: "approved",
      decidedBy: idOf("lead@demo.example"),
    });
    const now = await read(clientId, invited);
    expect(now.status).toBe(200);
    expect(now.json.name).toBe("Held Assignment");
    expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example"), invited.userId]);
    expect(await pendingIds(lead)).not.toContain(changeId);
    await securityEvent("PHI_GRANT_APPROVED", changeId);
    const [requested] = await auditedFor(changeId, "change.request");
    expect(requested?.actor.id).toBe(idOf("admin@demo.example"));
    const approvals = await auditedFor(changeId, "change.approve");
    expect(approvals).toHaveLength(1);
    expect(approvals[0]?.actor.id).toBe(idOf("lead@demo.example"));
    expect(approvals[0]?.resource).toEqual({ type: "change", id: changeId, clientId });
  });

  it("holds making a just-invited lead the lead of a coach's team; the lead and the requester cannot approve it", async () => {
    const newLead = await account("coach_lead", "controlled.lead");
    const coach = await account("coach", "team.coach");
    await touched(coach, 60);
    const clientId = await newClient("Team Client");
    expect((await api("PUT", `/clients/${clientId}/coaches/${coach.userId}`, { token: admin })).status).toBe(
      200,
    );
    const held = await api("PATCH", `/users/${coach.userId}`, {
      token: admin,
      body: { version: await versionOf(coach.userId), leadId: newLead.userId },
    });
    expect(held.status).toBe(202);
    expect(held.json).toMatchObject({ kind: "lead", granteeIds: [newLead.userId] });
    const { changeId } = held.json;
    expect((await read(clientId, newLead)).status).toBe(404);

    for (const self of [newLead.token, admin]) {
      const refused = await decide(changeId, "approve", self);
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe("SECOND_PERSON_REQUIRED");
    }
    expect((await read(clientId, newLead)).status).toBe(404);
    expect((await decide(changeId, "approve", admin2.token)).status).toBe(200);
    expect((await read(clientId, newLead)).json.name).toBe("Team Client");
  });

  it("holds giving a PHI-reading role back to an account the admin just changed", async () => {
    const former = await account("coach_lead", "former.lead");
    const coach = await account("coach", "led.coach");
    await touched(coach, 60);
    const clientId = await newClient("Role Client");
    await api("PUT", `/clients/${clientId}/coaches/${coach.userId}`, { token: admin });
    // A second admin, who never touched `former`, makes them the coach's lead: not held.
    const led = await api("PATCH", `/users/${coach.userId}`, {
      token: admin2.token,
      body: { version: await versionOf(coach.userId), leadId: former.userId },
    });
    expect(led.status).toBe(200);
    expect((await read(clientId, former)).status).toBe(200);
    // Taking a PHI role away is not a grant …
    const demoted = await api("PATCH", `/users/${former.userId}`, {
      token: admin,
      body: { version: await versionOf(former.userId), role: "compliance_officer" },
    });
    expect(demoted.status).toBe(200);
    expect((await read(clientId, former)).status).toBe(403);
    // … giving it back is, and the admin changed this account moments ago.
    const held = await api("PATCH", `/users/${former.userId}`, {
      token: admin,
      body: { version: await versionOf(former.userId), role: "coach_lead" },
    });
    expect(held.status).toBe(202);
    expect(held.json).toMatchObject({ kind: "role", granteeIds: [former.userId] });
    expect((await read(clientId, former)).status).toBe(403);
    expect((await decide(held.json.changeId, "approve", lead)).status).toBe(200);
    expect((await read(clientId, former)).json.name).toBe("Role Client");
  });

  it("holds reassigning a departing coach's clients to an account the admin just invited; all move on approval", async () => {
    const departing = await account("coach", "departing");
    await touched(departing, 60);
    const clients = [await newClient("Moving One"), await newClient("Moving Two")];
    for (const clientId of clients) {
      await api("PUT", `/clients/${clientId}/coaches/${departing.userId}`, { token: admin });
    }
    const successor = await account("coach", "successor");
    const held = await api("POST", `/users/${departing.userId}/reassign`, {
      token: admin,
      body: { toCoachId: successor.userId },
    });
    expect(held.status).toBe(202);
    expect(held.json).toMatchObject({
      kind: "reassign",
      granteeIds: [successor.userId],
      change: { op: "reassign", fromId: departing.userId, toId: successor.userId },
    });
    expect([...held.json.change.clientIds].sort()).toEqual([...clients].sort());
    for (const clientId of clients) {
      expect((await read(clientId, successor)).status).toBe(404);
      expect((await read(clientId, departing)).status).toBe(200);
    }
    expect((await decide(held.json.changeId, "approve", admin2.token)).status).toBe(200);
    for (const clientId of clients) {
      expect((await read(clientId, successor)).status).toBe(200);
      expect((await read(clientId, departing)).status).toBe(404);
      expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example"), successor.userId]);
    }
    const approvals = await auditedFor(held.json.changeId, "change.approve");
    expect(approvals).toHaveLength(1);
    expect([...((approvals[0]?.resource.clientIds ?? []) as string[])].sort()).toEqual([...clients].sort());
  });

  it("lets only another admin or lead of the org decide; a rejected change never applies", async () => {
    const invited = await account("coach", "rejected");
    const clientId = await newClient("Rejected Client");
    const held = await api("PUT", `/clients/${clientId}/coaches/${invited.userId}`, { token: admin });
    const { changeId } = held.json;
    expect((await api("GET", "/changes", { token: coach1 })).status).toBe(403);
    expect((await decide(changeId, "approve", coach1)).status).toBe(403);
    expect((await decide(changeId, "approve", invited.token)).status).toBe(403);
    expect((await decide(changeId, "approve", compliance)).status).toBe(403);
    expect((await decide(changeId, "approve", otherAdmin)).status).toBe(404);
    expect((await api("GET", "/changes", { token: otherAdmin })).json.items).toEqual([]);

    const rejected = await decide(changeId, "reject", lead);
    expect(rejected.status).toBe(200);
    expect(rejected.json).toMatchObject({ status: "rejected", decidedBy: idOf("lead@demo.example") });
    await securityEvent("PHI_GRANT_REJECTED", changeId);
    expect(await auditedFor(changeId, "change.reject")).toHaveLength(1);
    const late = await decide(changeId, "approve", admin2.token);
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe("CHANGE_NOT_PENDING");
    expect((await read(clientId, invited)).status).toBe(404);
    expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example")]);
  });

  it("does not hold an admin independent of the account (neither they nor anyone in their circle touched it)", async () => {
    const invited = await account("coach", "other.admins");
    const clientId = await newClient("Direct Client");
    const assigned = await api("PUT", `/clients/${clientId}/coaches/${invited.userId}`, {
      token: admin2.token,
    });
    expect(assigned.status).toBe(200);
    expect((await read(clientId, invited)).json.name).toBe("Direct Client");
  });

  it("holds within the 30 days after the admin's touch, and not after", async () => {
    const invited = await account("coach", "window");
    const clientId = await newClient("Window Client");
    await touched(invited, 29);
    const within = await api("PUT", `/clients/${clientId}/coaches/${invited.userId}`, { token: admin });
    expect(within.status).toBe(202);
    await touched(invited, 31);
    const after = await api("PUT", `/clients/${clientId}/coaches/${invited.userId}`, { token: admin });
    expect(after.status).toBe(200);
    expect((await read(clientId, invited)).status).toBe(200);
    // The change held earlier no longer applies: approving it changes nothing and says so.
    const stale = await decide(within.json.changeId, "approve", lead);
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe("CHANGE_STALE");
    expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example"), invited.userId]);
  });

  it("checks everything again at approval: an expired change or a disabled grantee answers 409 and applies nothing", async () => {
    const clientId = await newClient("Recheck Client");
    const expiring = await account("coach", "expiring");
    const expired = (await api("PUT", `/clients/${clientId}/coaches/${expiring.userId}`, { token: admin }))
      .json.changeId as string;
    await aws("dynamo").send(
      new UpdateCommand({
        TableName: getConfig().TABLE_DIRECTORY,
        Key: changeKey("demo", expired),
        UpdateExpression: "SET expiresAt = :past",
        ExpressionAttributeValues: { ":past": new Date(Date.now() - 1000).toISOString() },
      }),
    );
    expect(await pendingIds(lead)).not.toContain(expired);
    const tooLate = await decide(expired, "approve", lead);
    expect(tooLate.status).toBe(409);
    expect(tooLate.json.error.code).toBe("CHANGE_EXPIRED");

    const disabled = await account("coach", "disabled");
    const { changeId } = (
      await api("PUT", `/clients/${clientId}/coaches/${disabled.userId}`, { token: admin })
    ).json;
    const off = await api("PATCH", `/users/${disabled.userId}`, {
      token: admin2.token,
      body: { version: await versionOf(disabled.userId), status: "disabled" },
    });
    expect(off.status).toBe(200);
    const stale = await decide(changeId, "approve", lead);
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe("CHANGE_STALE");
    expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example")]);
  });

  it("applies a change once when two approvers race", async () => {
    for (let round = 0; round < 3; round++) {
      const invited = await account("coach", `raced${round}`);
      const clientId = await newClient("Raced Client");
      const { changeId } = (
        await api("PUT", `/clients/${clientId}/coaches/${invited.userId}`, { token: admin })
      ).json;
      const answers = await Promise.all([
        decide(changeId, "approve", lead),
        decide(changeId, "approve", admin2.token),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example"), invited.userId]);
      const listed = await api("GET", "/clients", { token: invited.token });
      expect(listed.json.items.map((client: { clientId: string }) => client.clientId)).toEqual([clientId]);
      expect(await auditedFor(changeId, "change.approve")).toHaveLength(1);
    }
  });
});

describe("circles: one admin acting through accounts they control", () => {
  const expectSecondPersonRequired = async (changeId: string, token: string) => {
    const refused = await decide(changeId, "approve", token);
    expect(refused.status, refused.text.slice(0, 200)).toBe(403);
    expect(refused.json.error.code).toBe("SECOND_PERSON_REQUIRED");
  };

  it("an admin the requester invited acts for them: its assignment of the requester's invitee is held, and the other way round", async () => {
    const puppetAdmin = await account("admin", "puppet.admin");
    const puppetCoach = await account("coach", "puppet.coach");
    const clientId = await newClient("Puppet Client");
    const held = await api("PUT", `/clients/${clientId}/coaches/${puppetCoach.userId}`, {
      token: puppetAdmin.token,
    });
    expect(held.status, held.text.slice(0, 200)).toBe(202);
    expect(held.json).toMatchObject({
      kind: "assign",
      requesterId: puppetAdmin.userId,
      granteeIds: [puppetCoach.userId],
    });
    expect((await read(clientId, puppetCoach)).status).toBe(404);
    expect(await securityEvent("PHI_GRANT_HELD", held.json.changeId)).toMatchObject({
      requesterId: puppetAdmin.userId,
    });

    // The puppet admin's own invitee, assigned by the admin who controls the puppet.
    const puppetsInvitee = await account("coach", "puppets.invitee", puppetAdmin.token);
    const other = await api("PUT", `/clients/${clientId}/coaches/${puppetsInvitee.userId}`, { token: admin });
    expect(other.status).toBe(202);
    expect(other.json.granteeIds).toEqual([puppetsInvitee.userId]);
    expect(await coachesOf(clientId)).toEqual([idOf("coach1@demo.example")]);
  });

  it("a lead or admin the requester invited cannot approve (403 SECOND_PERSON_REQUIRED), nor can the admin who controls the requester", async () => {
    const puppetLead = await account("coach_lead", "puppet.lead");
    const puppetAdmin = await account("admin", "puppet.approver");
    const coach = await account("coach", "puppet.grantee");
    const clientId = await newClient("Puppet Approval");
    const held = await api("PUT", `/clients/${clientId}/coaches/${coach.userId}`, { token: admin });
    expect(held.status).toBe(202);
    await expectSecondPersonRequired(held.json.changeId, puppetLead.token);
    await expectSecondPersonRequired(held.json.changeId, puppetAdmin.token);
    expect((await read(clientId, coach)).status).toBe(404);
    expect(await pendingIds(lead)).toContain(held.json.changeId);

    // A change requested by an admin the demo admin invited: the demo admin cannot approve it either.
    const fromPuppet = await api("PUT", `/clients/${clientId}/coaches/${coach.userId}`, {
      token: puppetAdmin.token,
    });
    expect(fromPuppet.status).toBe(202);
    await expectSecondPersonRequired(fromPuppet.json.changeId, admin);

    // An independent lead can.
    expect((await decide(held.json.changeId, "approve", lead)).status).toBe(200);
    expect((await read(clientId, coach)).json.name).toBe("Puppet Approval");
  });

  it("an assignment names the coach's lead as a grantee: held for the lead alone, and the lead cannot decide it", async () => {
    const puppetLead = await account("coach_lead", "hidden.lead");
    // A coach the admin invited long ago (outside the window), on the puppet lead's team.
    const coach = await account("coach", "led.by.puppet", admin, puppetLead.userId);
    await touched(coach, 60);
    const clientId = await newClient("Hidden Lead Client");
    const held = await api("PUT", `/clients/${clientId}/coaches/${coach.userId}`, { token: admin });
    expect(held.status, held.text.slice(0, 200)).toBe(202);
    expect(held.json).toMatchObject({ kind: "assign", granteeIds: [coach.userId, puppetLead.userId] });
    expect((await read(clientId, puppetLead)).status).toBe(404);
    await expectSecondPersonRequired(held.json.changeId, puppetLead.token);
    // The approver sees that the lead gains the client, and decides knowingly.
    expect((await decide(held.json.changeId, "approve", admin2.token)).status).toBe(200);
    expect((await read(clientId, puppetLead)).json.name).toBe("Hidden Lead Client");
  });

  it("re-enabling an account that has clients is a grant: held for the admin who invited it", async () => {
    const returning = await account("coach", "returning");
    const clientId = await newClient("Returning Client");
    // Assigned, then disabled, by an independent admin.
    expect(
      (await api("PUT", `/clients/${clientId}/coaches/${returning.userId}`, { token: admin2.token })).status,
    ).toBe(200);
    const off = await api("PATCH", `/users/${returning.userId}`, {
      token: admin2.token,
      body: { version: await versionOf(returning.userId), status: "disabled" },
    });
    expect(off.status).toBe(200);
    const held = await api("PATCH", `/users/${returning.userId}`, {
      token: admin,
      body: { version: await versionOf(returning.userId), status: "active" },
    });
    expect(held.status, held.text.slice(0, 200)).toBe(202);
    expect(held.json).toMatchObject({ kind: "reenable", granteeIds: [returning.userId] });
    expect((await read(clientId, returning)).status).not.toBe(200);
    expect((await decide(held.json.changeId, "approve", lead)).status).toBe(200);
    expect((await read(clientId, returning)).json.name).toBe("Returning Client");
  });

  it("making a coach the lead again while a team still points at it is a grant: held", async () => {
    const teamLead = await account("coach_lead", "team.lead");
    const member = await account("coach", "team.member");
    await touched(member, 60);
    const clientId = await newClient("Team Member Client");
    expect((await api("PUT", `/clients/${clientId}/coaches/${member.userId}`, { token: admin })).status).toBe(
      200,
    );
    // An independent admin puts the member on the lead's team: not held.
    const led = await api("PATCH", `/users/${member.userId}`, {
      token: admin2.token,
      body: { version: await versionOf(member.userId), leadId: teamLead.userId },
    });
    expect(led.status).toBe(200);
    expect((await read(clientId, teamLead)).status).toBe(200);
    // Demoting the lead to coach takes nothing but the role; the team still points at the account …
    const demoted = await api("PATCH", `/users/${teamLead.userId}`, {
      token: admin,
      body: { version: await versionOf(teamLead.userId), role: "coach" },
    });
    expect(demoted.status).toBe(200);
    expect((await read(clientId, teamLead)).status).toBe(404);
    // … so making it lead again gives it the team's clients back.
    const held = await api("PATCH", `/users/${teamLead.userId}`, {
      token: admin,
      body: { version: await versionOf(teamLead.userId), role: "coach_lead" },
    });
    expect(held.status, held.text.slice(0, 200)).toBe(202);
    expect(held.json).toMatchObject({ kind: "role", granteeIds: [teamLead.userId] });
    expect((await decide(held.json.changeId, "approve", lead)).status).toBe(200);
    expect((await read(clientId, teamLead)).json.name).toBe("Team Member Client");
  });
});
