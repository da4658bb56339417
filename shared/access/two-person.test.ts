import { describe, expect, it } from "vitest";
import type { UserRecord } from "../people";
import { grantsOf, isHeld, PHI_GRANTS } from "./two-person";

const user = (role: UserRecord["role"], leadId?: string): UserRecord => ({
  userId: "u1",
  username: "u1",
  orgId: "demo",
  email: "u1@demo.example",
  role,
  status: "active",
  ...(leadId && { leadId }),
  version: 3,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
});

describe("PHI grants (the two-person rule's table)", () => {
  it("names assignment, reassignment, team lead and role", () => {
    expect(Object.keys(PHI_GRANTS).sort()).toEqual(["assign", "lead", "reassign", "role"]);
  });

  it("finds the account each change lets read PHI", () => {
    expect(grantsOf({ op: "assign", clientId: "c1", coachId: "k1" })).toEqual([
      { kind: "assign", granteeId: "k1" },
    ]);
    expect(grantsOf({ op: "reassign", fromId: "k1", toId: "k2", clientIds: ["c1"] })).toEqual([
      { kind: "reassign", granteeId: "k2" },
    ]);
    expect(grantsOf({ op: "updateUser", userId: "u1", version: 3, leadId: "l1" }, user("coach"))).toEqual([
      { kind: "lead", granteeId: "l1" },
    ]);
    expect(
      grantsOf({ op: "updateUser", userId: "u1", version: 3, role: "coach" }, user("compliance_officer")),
    ).toEqual([{ kind: "role", granteeId: "u1" }]);
  });

  it("sees no grant where no one gains access to PHI", () => {
    const none = [
      grantsOf({ op: "updateUser", userId: "u1", version: 3, leadId: "l1" }, user("coach", "l1")),
      grantsOf({ op: "updateUser", userId: "u1", version: 3, leadId: null }, user("coach", "l1")),
      grantsOf({ op: "updateUser", userId: "u1", version: 3, role: "coach_lead" }, user("coach")),
      grantsOf({ op: "updateUser", userId: "u1", version: 3, role: "admin" }, user("coach")),
      grantsOf({ op: "updateUser", userId: "u1", version: 3, role: "compliance_officer" }, user("admin")),
      grantsOf({ op: "updateUser", userId: "u1", version: 3, status: "disabled" }, user("coach")),
    ];
    expect(none.flat()).toEqual([]);
  });

  it("tells a held change from a service's ordinary answer", () => {
    expect(isHeld({ changeId: "x", status: "pending" })).toBe(true);
    expect(isHeld({ userId: "u1", status: "active" })).toBe(false);
    expect(isHeld({ clientId: "c1", coaches: [] })).toBe(false);
  });
});
