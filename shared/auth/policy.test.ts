import { describe, expect, it } from "vitest";
import { CLIENT_PHI_FIELDS, decide, POLICY } from "./policy";
import type { ROLES } from "./roles";

const principal = (role: (typeof ROLES)[number]) => ({ userId: "u", orgId: "o", role });

describe("access policy", () => {
  it("denies by default: anything not in the table is refused", () => {
    expect(decide(principal("coach"), "client:read", "none")).toEqual({ allow: false });
    expect(decide(principal("admin"), "client:create", "none")).toEqual({ allow: false });
    expect(decide(principal("admin"), "client:update", "creator")).toEqual({ allow: false });
  });

  it("never lets an admin see a PHI field", () => {
    for (const rule of POLICY.filter((r) => r.role === "admin")) {
      for (const field of CLIENT_PHI_FIELDS) expect(rule.fields).not.toContain(field);
    }
  });

  it("gives a coach every field of the clients they created, and only the name in lists", () => {
    const read = decide(principal("coach"), "client:read", "creator");
    expect(read.allow && [...read.fields]).toEqual(expect.arrayContaining([...CLIENT_PHI_FIELDS]));
    const list = decide(principal("coach"), "client:list", "creator");
    expect(
      list.allow && [...list.fields].filter((f) => (CLIENT_PHI_FIELDS as readonly string[]).includes(f)),
    ).toEqual(["name"]);
  });

  it("has at most one rule per role, relationship and action", () => {
    const keys = POLICY.map((r) => `${r.role}/${r.relationship}/${r.action}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
