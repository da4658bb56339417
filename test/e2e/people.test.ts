import { beforeAll, describe, expect, it } from "vitest";
import { assignmentKey } from "../../functions/clients/service";
import { getRecord } from "../../shared/store";
import { inviteUser, settledInvitation, tokenFor } from "../support/people";
import { testStack } from "../support/stack";

/** People, teams and assignments over HTTPS: what each role can do, and that changes take effect at once. */
const stack = testStack();
const { api } = stack;
const userId = (email: string) => stack.users.find((user) => user.email === email)?.userId as string;

let coach1: string;
let coach2: string;
let lead: string;
let admin: string;
let otherAdmin: string;

beforeAll(async () => {
  [coach1, coach2, lead, admin, otherAdmin] = (await Promise.all(
    [
      "coach1@demo.example",
      "coach2@demo.example",
      "lead@demo.example",
      "admin@demo.example",
      "admin@other.example",
    ].map((email) => stack.token(email)),
  )) as [string, string, string, string, string];
});

async function newClient(token: string, name: string) {
  const res = await api("POST", "/clients", { token, body: { name } });
  expect(res.status).toBe(201);
  return res.json.clientId as string;
}

describe("teams and assignments", () => {
  it("a lead reads their team's clients, not other coaches' clients", async () => {
    const teamClient = await newClient(coach1, "Team Client");
    const otherClient = await newClient(coach2, "Not Team Client");
    const read = await api("GET", `/clients/${teamClient}`, { token: lead });
    expect(read.status).toBe(200);
    expect(read.json.name).toBe("Team Client");
    expect((await api("GET", `/clients/${otherClient}`, { token: lead })).status).toBe(404);
    // …and cannot change what they supervise.
    expect(
      (await api("PATCH", `/clients/${teamClient}`, { token: lead, body: { version: 1, name: "X Y" } }))
        .status,
    ).toBe(403);
  });

  it("an admin assigns and unassigns coaches; access follows at once", async () => {
    const clientId = await newClient(coach1, "Shared Client");
    expect((await api("GET", `/clients/${clientId}`, { token: coach2 })).status).toBe(404);
    const assigned = await api("PUT", `/clients/${clientId}/coaches/${userId("coach2@demo.example")}`, {
      token: admin,
    });
    expect(assigned.status).toBe(200);
    expect(assigned.json.coaches).toEqual([userId("coach1@demo.example"), userId("coach2@demo.example")]);
    expect((await api("GET", `/clients/${clientId}`, { token: coach2 })).json.name).toBe("Shared Client");
    const unassigned = await api("DELETE", `/clients/${clientId}/coaches/${userId("coach2@demo.example")}`, {
      token: admin,
    });
    expect(unassigned.status).toBe(200);
    expect((await api("GET", `/clients/${clientId}`, { token: coach2 })).status).toBe(404);
  });

  it("only admins assign, and never across orgs or to non-coaches", async () => {
    const clientId = await newClient(coach1, "Guarded Client");
    const coach2Id = userId("coach2@demo.example");
    expect((await api("PUT", `/clients/${clientId}/coaches/${coach2Id}`, { token: coach1 })).status).toBe(
      403,
    );
    expect((await api("PUT", `/clients/${clientId}/coaches/${coach2Id}`, { token: otherAdmin })).status).toBe(
      404,
    );
    const toAdmin = await api("PUT", `/clients/${clientId}/coaches/${userId("admin@demo.example")}`, {
      token: admin,
    });
    expect(toAdmin.status).toBe(400);
    const foreignCoach = await api("PUT", `/clients/${clientId}/coaches/${userId("coach@other.example")}`, {
      token: admin,
    });
    expect(foreignCoach.status).toBe(400);
    const toCompliance = await api(
      "PUT",
      `/clients/${clientId}/coaches/${userId("compliance@demo.example")}`,
      { token: admin },
    );
    expect(toCompliance.status).toBe(400);
    expect(toCompliance.json.error.details).toEqual([{ field: "path.coachId", rule: "active_coach" }]);
    expect((await api("GET", `/clients/${clientId}`, { token: admin })).json.coaches).toEqual([
      userId("coach1@demo.example"),
    ]);
  });

  it("reassigns only to an active coach or lead of the org, and never a coach to themselves", async () => {
    const clientId = await newClient(coach1, "Kept Client");
    const coach1Id = userId("coach1@demo.example");
    for (const target of ["compliance@demo.example", "admin@demo.example", "coach@other.example"]) {
      const refused = await api("POST", `/users/${coach1Id}/reassign`, {
        token: admin,
        body: { toCoachId: userId(target) },
      });
      expect(refused.status, target).toBe(target === "coach@other.example" ? 404 : 400);
    }
    const self = await api("POST", `/users/${coach1Id}/reassign`, {
      token: admin,
      body: { toCoachId: coach1Id },
    });
    expect(self.status).toBe(400);
    expect(self.json.error.details).toEqual([{ field: "body.toCoachId", rule: "other_than_user" }]);
    // Their assignment is intact on both sides: the client's list and the coach's own assignment item.
    expect((await api("GET", `/clients/${clientId}`, { token: admin })).json.coaches).toEqual([coach1Id]);
    expect(await getRecord(assignmentKey("demo", coach1Id, clientId))).toMatchObject({ clientId });
  });
});

describe("people", () => {
  it("an admin invites a user, who is listed once the invitation is sent; the same email again is a 409", async () => {
    const invited = await api("POST", "/users", {
      token: admin,
      body: { email: "New.Coach@demo.example", role: "coach" },
    });
    expect(invited.status).toBe(202);
    expect(invited.json).toMatchObject({ email: "new.coach@demo.example", role: "coach", status: "pending" });
    const sent = await settledInvitation(api, admin, invited.json.inviteId);
    expect(sent).toMatchObject({ status: "sent", userId: expect.any(String) });
    const listed = (await api("GET", "/users", { token: admin })).json.items.find(
      (u: { userId: string }) => u.userId === sent.userId,
    );
    expect(listed).toMatchObject({
      email: "new.coach@demo.example",
      role: "coach",
      status: "active",
      version: 1,
    });
    const again = await api("POST", "/users", {
      token: admin,
      body: { email: "new.coach@demo.example", role: "coach" },
    });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("USER_EXISTS");
    const list = await api("GET", "/users", { token: admin });
    expect(list.json.items.map((u: { email: string }) => u.email)).toContain("new.coach@demo.example");
    expect(list.json.items.map((u: { email: string }) => u.email)).not.toContain("coach@other.example");
    expect(
      (await api("POST", "/users", { token: coach1, body: { email: "x@demo.example", role: "admin" } }))
        .status,
    ).toBe(403);
  });

  it("disabling a user takes effect on their next request, and re-enabling restores them", async () => {
    // A fresh account: an admin's change to a demo user would hold that admin's assignments of it (two-person rule).
    const email = "disabled.coach@demo.example";
    const id = await inviteUser(api, admin, { email, role: "coach" });
    const disabledToken = await tokenFor(coach1, { userId: id, email, role: "coach" });
    expect((await api("GET", "/clients", { token: disabledToken })).status).toBe(200);
    const current = (await api("GET", "/users", { token: admin })).json.items.find(
      (u: { userId: string }) => u.userId === id,
    );
    const disabled = await api("PATCH", `/users/${id}`, {
      token: admin,
      body: { version: current.version, status: "disabled" },
    });
    expect(disabled.status).toBe(200);
    try {
      const refused = await api("GET", "/clients", { token: disabledToken });
      expect(refused.status).toBe(401);
      expect(refused.json.error.code).toBe("ACCOUNT_DISABLED");
    } finally {
      const enabled = await api("PATCH", `/users/${id}`, {
        token: admin,
        body: { version: current.version + 1, status: "active" },
      });
      expect(enabled.status).toBe(200);
    }
    expect((await api("GET", "/clients", { token: disabledToken })).status).toBe(200);
  });

  it("an admin cannot change their own role or status, nor anyone in another org", async () => {
    const self = userId("admin@demo.example");
    const own = await api("PATCH", `/users/${self}`, {
      token: admin,
      body: { version: 1, status: "disabled" },
    });
    expect(own.status).toBe(409);
    expect(own.json.error.code).toBe("SELF_CHANGE_FORBIDDEN");
    const foreign = await api("PATCH", `/users/${userId("coach1@demo.example")}`, {
      token: otherAdmin,
      body: { version: 1, status: "disabled" },
    });
    expect(foreign.status).toBe(404);
  });

  it("a departing coach's clients move to another coach", async () => {
    const leaving = await inviteUser(api, admin, { email: "leaving.coach@demo.example", role: "coach" });
    const clientId = await newClient(coach1, "Moving Client");
    // The admin invited this account, so assigning it waits for a second person (two-person rule).
    const held = await api("PUT", `/clients/${clientId}/coaches/${leaving}`, { token: admin });
    expect(held.status).toBe(202);
    expect((await api("POST", `/changes/${held.json.changeId}/approve`, { token: lead })).status).toBe(200);
    await api("DELETE", `/clients/${clientId}/coaches/${userId("coach1@demo.example")}`, { token: admin });
    const moved = await api("POST", `/users/${leaving}/reassign`, {
      token: admin,
      body: { toCoachId: userId("coach2@demo.example") },
    });
    expect(moved.status).toBe(200);
    expect(moved.json.moved).toBe(1);
    const read = await api("GET", `/clients/${clientId}`, { token: coach2 });
    expect(read.json).toMatchObject({ name: "Moving Client", coaches: [userId("coach2@demo.example")] });
  });
});
