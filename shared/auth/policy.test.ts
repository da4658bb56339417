import { describe, expect, it } from "vitest";
import { ACTIONS, CLIENT_PHI_FIELDS, decide, POLICY, RELATIONSHIPS, readsPhi } from "./policy";
import { ROLES } from "./roles";

const as = (role: (typeof ROLES)[number]) => ({ role });
const phiIn = (fields: ReadonlySet<string> | readonly string[]) =>
  [...fields].filter((f) => (CLIENT_PHI_FIELDS as readonly string[]).includes(f));

describe("access policy", () => {
  it("denies by default: anything not in the table is refused", () => {
    expect(decide(as("coach"), "client:read", "none")).toEqual({ allow: false });
    expect(decide(as("coach"), "client:read", "lead_of_assigned")).toEqual({ allow: false });
    expect(decide(as("admin"), "client:create", "none")).toEqual({ allow: false });
    expect(decide(as("admin"), "client:update", "assigned")).toEqual({ allow: false });
    expect(decide(as("coach"), "user:manage", "none")).toEqual({ allow: false });
    expect(decide(as("coach"), "breakglass:request", "none")).toEqual({ allow: false });
  });

  it("never lets an admin see a PHI field or a transcript without break-glass", () => {
    for (const relationship of RELATIONSHIPS.filter((r) => r !== "break_glass")) {
      // user:* covers the workforce (coaches' own emails), not clients.
      for (const action of ACTIONS.filter((a) => !a.startsWith("user:"))) {
        const decision = decide(as("admin"), action, relationship);
        if (!decision.allow) continue;
        expect(phiIn(decision.fields)).toEqual([]);
        expect([...decision.fields].some((f) => f.startsWith("transcript:") || f === "text")).toBe(false);
      }
    }
  });

  it("gives the assigned coach every field, and only the name in lists", () => {
    const read = decide(as("coach"), "client:read", "assigned");
    expect(read.allow && phiIn(read.fields).sort()).toEqual([...CLIENT_PHI_FIELDS].sort());
    const list = decide(as("coach"), "client:list", "assigned");
    expect(list.allow && phiIn(list.fields)).toEqual(["name"]);
  });

  it("shows a lead their team's transcripts redacted, and full only under break-glass", () => {
    const team = decide(as("coach_lead"), "transcript:read", "lead_of_assigned");
    expect(team.allow && [...team.fields]).not.toContain("transcript:full");
    const emergency = decide(as("coach_lead"), "transcript:read", "break_glass");
    expect(emergency.allow && [...emergency.fields]).toContain("transcript:full");
  });

  it("break-glass never allows a change", () => {
    for (const action of ACTIONS.filter((a) => /create|update|write|upload|assign|manage/.test(a))) {
      for (const role of ROLES) expect(decide(as(role), action, "break_glass").allow).toBe(false);
    }
  });

  it("says which roles read PHI, and which may be a client's assigned coach", () => {
    expect(ROLES.filter((role) => readsPhi(role))).toEqual(["coach", "coach_lead"]);
    expect(ROLES.filter((role) => readsPhi(role, ["assigned"]))).toEqual(["coach", "coach_lead"]);
    expect(readsPhi("coach", ["lead_of_assigned"])).toBe(false);
  });

  it("lets admins and leads, and no one else, see and decide changes held for a second person", () => {
    for (const role of ROLES) {
      const allowed = role === "admin" || role === "coach_lead";
      expect(decide(as(role), "change:list", "none").allow).toBe(allowed);
      expect(decide(as(role), "change:decide", "none").allow).toBe(allowed);
    }
  });

  it("has at most one rule per role, relationship and action", () => {
    const keys = POLICY.flatMap((r) =>
      r.roles.flatMap((role) =>
        r.relationships.flatMap((rel) => r.actions.map((a) => `${role}/${rel}/${a}`)),
      ),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });
});
