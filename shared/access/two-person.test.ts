import { describe, expect, it } from "vitest";
import type { UserRecord } from "../people";
import { circleOf, type Directory, type GrantFacts, grantsOf, isHeld, PHI_GRANTS } from "./two-person";

const user = (
  role: UserRecord["role"],
  extra: Partial<Pick<UserRecord, "leadId" | "status" | "touchedBy" | "userId">> = {},
): UserRecord => ({
  userId: "u1",
  username: "u1",
  orgId: "demo",
  email: "u1@demo.example",
  role,
  status: "active",
  version: 3,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
  ...extra,
});

/** Facts about the account a change names, as the gate would read them. */
const facts = (account?: UserRecord, about: { team?: boolean; clients?: boolean } = {}): GrantFacts => ({
  account: async () => account,
  leadsTeam: async () => about.team ?? false,
  hasClients: async () => about.clients ?? false,
});

const change = (fields: {
  role?: UserRecord["role"];
  status?: UserRecord["status"];
  leadId?: string | null;
}) => ({
  op: "updateUser" as const,
  userId: "u1",
  version: 3,
  ...fields,
});

describe("PHI grants (the two-person rule's table)", () => {
  it("names assignment, reassignment, team lead, role and re-enabling", () => {
    expect(Object.keys(PHI_GRANTS).sort()).toEqual(["assign", "lead", "reassign", "reenable", "role"]);
  });

  it("finds every account each change lets read PHI: a coach's lead gains its clients too", async () => {
    expect(await grantsOf({ op: "assign", clientId: "c1", coachId: "k1" }, facts(user("coach")))).toEqual([
      { kind: "assign", granteeId: "k1" },
    ]);
    expect(
      await grantsOf({ op: "assign", clientId: "c1", coachId: "k1" }, facts(user("coach", { leadId: "l1" }))),
    ).toEqual([
      { kind: "assign", granteeId: "k1" },
      { kind: "assign", granteeId: "l1" },
    ]);
    expect(
      await grantsOf(
        { op: "reassign", fromId: "k1", toId: "k2", clientIds: ["c1"] },
        facts(user("coach", { leadId: "l2" })),
      ),
    ).toEqual([
      { kind: "reassign", granteeId: "k2" },
      { kind: "reassign", granteeId: "l2" },
    ]);
    expect(await grantsOf(change({ leadId: "l1" }), facts(user("coach")))).toEqual([
      { kind: "lead", granteeId: "l1" },
    ]);
    expect(await grantsOf(change({ role: "coach" }), facts(user("compliance_officer")))).toEqual([
      { kind: "role", granteeId: "u1" },
    ]);
  });

  it("a coach made lead of a team that still points at it gains the team's clients", async () => {
    expect(await grantsOf(change({ role: "coach_lead" }), facts(user("coach"), { team: true }))).toEqual([
      { kind: "role", granteeId: "u1" },
    ]);
    expect(await grantsOf(change({ role: "coach_lead" }), facts(user("coach"), { team: false }))).toEqual([]);
  });

  it("re-enabling an account with clients or a team grants it their access again", async () => {
    const disabled = user("coach", { status: "disabled" });
    expect(await grantsOf(change({ status: "active" }), facts(disabled, { clients: true }))).toEqual([
      { kind: "reenable", granteeId: "u1" },
    ]);
    expect(await grantsOf(change({ status: "active" }), facts(disabled, { team: true }))).toEqual([
      { kind: "reenable", granteeId: "u1" },
    ]);
    expect(await grantsOf(change({ status: "active" }), facts(disabled))).toEqual([]);
  });

  it("sees no grant where no one gains access to PHI", async () => {
    const none = await Promise.all([
      grantsOf(change({ leadId: "l1" }), facts(user("coach", { leadId: "l1" }))),
      grantsOf(change({ leadId: null }), facts(user("coach", { leadId: "l1" }))),
      grantsOf(change({ role: "admin" }), facts(user("coach"), { team: true, clients: true })),
      grantsOf(change({ role: "compliance_officer" }), facts(user("admin"))),
      grantsOf(change({ role: "coach" }), facts(user("coach_lead"), { team: true, clients: true })),
      grantsOf(change({ status: "disabled" }), facts(user("coach"), { team: true, clients: true })),
      grantsOf(change({ status: "active" }), facts(user("coach"), { team: true, clients: true })),
    ]);
    expect(none.flat()).toEqual([]);
  });

  it("tells a held change from a service's ordinary answer", () => {
    expect(isHeld({ changeId: "x", status: "pending" })).toBe(true);
    expect(isHeld({ userId: "u1", status: "active" })).toBe(false);
    expect(isHeld({ clientId: "c1", coaches: [] })).toBe(false);
  });
});

describe("circles (who may be one person)", () => {
  const since = "2026-01-01T00:00:00.000Z";
  const recent = "2026-01-20T00:00:00.000Z";
  const old = "2025-12-01T00:00:00.000Z";
  /** An org's directory in memory, counting reads. */
  function directoryOf(users: UserRecord[]): Directory & { reads: number } {
    const byId = new Map(users.map((u) => [u.userId, u]));
    const directory = Object.assign(
      async (ids: readonly string[]) => {
        directory.reads++;
        return new Map(ids.flatMap((id) => (byId.has(id) ? [[id, byId.get(id) as UserRecord]] : [])));
      },
      { reads: 0 },
    );
    return directory;
  }
  const touched = (userId: string, by: Record<string, string>, role: UserRecord["role"] = "admin") =>
    user(role, { userId, touchedBy: by });

  it("is the account and the admins who touched it within the window, transitively", async () => {
    const directory = directoryOf([
      touched("coach", { a2: recent, stale: old }, "coach"),
      touched("a2", { a1: recent }),
      touched("a1", {}),
      touched("stale", { a0: recent }),
    ]);
    expect([...(await circleOf("coach", directory, since))].sort()).toEqual(["a1", "a2", "coach"]);
  });

  it("stops at a touch older than the window, anywhere along the chain", async () => {
    const directory = directoryOf([touched("coach", { a2: recent }, "coach"), touched("a2", { a1: old })]);
    expect([...(await circleOf("coach", directory, since))].sort()).toEqual(["a2", "coach"]);
  });

  it("ends on cycles and on accounts no longer in the directory, reading each level once", async () => {
    const directory = directoryOf([
      touched("a1", { a2: recent }),
      touched("a2", { a1: recent, gone: recent }),
    ]);
    expect([...(await circleOf("a1", directory, since))].sort()).toEqual(["a1", "a2", "gone"]);
    expect(directory.reads).toBe(3);
  });
});
