import { describe, expect, it } from "vitest";
import { sectionOf } from "../check";
import { CheckResultSchema } from "../report";
import type { GrantRecord, TrailEntry } from "../trail";
import { attributed, auditChecks, ORG_LEVEL_PHI_ACTIONS } from "./audit";
import { CHECKS } from "./index";
import { accessesOutsideGrants, monitoringChecks, reviewVerdict } from "./monitoring";

const entry = (overrides: Partial<TrailEntry> = {}): TrailEntry => ({
  chain: "ORG#o#SHARD#0",
  seq: 1,
  at: "2026-11-01T10:00:00.000Z#ORG#o#SHARD#0#000000000001",
  time: "2026-11-01T10:00:00.000Z",
  actorType: "user",
  actorId: "coach-1",
  role: "coach",
  action: "client.read",
  outcome: "success",
  fields: 1,
  clients: ["c1"],
  breakGlass: false,
  basis: ["assigned"],
  ...overrides,
});

const grant = (overrides: Partial<GrantRecord> = {}): GrantRecord => ({
  grantId: "g1",
  clientId: "c1",
  userId: "coach-1",
  grantedAt: "2026-11-01T09:00:00.000Z",
  expiresAt: "2026-11-01T10:00:00.000Z",
  status: "reviewed",
  reviewedBy: "officer-1",
  reviewedAt: "2026-11-01T20:00:00.000Z",
  ...overrides,
});

describe("a PHI access is attributed", () => {
  it("when a user's names the relationship the policy granted on", () => {
    expect(attributed(entry())).toBe(true);
    expect(attributed(entry({ basis: ["lead", "assigned"] }))).toBe(true);
    expect(attributed(entry({ basis: ["break_glass"], breakGlass: true }))).toBe(true);
  });

  it("not when the basis is none, empty, missing (version 1) or partly none", () => {
    expect(attributed(entry({ basis: ["none"] }))).toBe(false);
    expect(attributed(entry({ basis: [] }))).toBe(false);
    const { basis: _, ...v1 } = entry();
    expect(attributed(v1)).toBe(false);
    expect(attributed(entry({ basis: ["assigned", "none"] }))).toBe(false);
  });

  it("not without a user or role; a user acting as the service role is no user", () => {
    expect(attributed(entry({ actorId: "" }))).toBe(false);
    expect(attributed(entry({ role: "" }))).toBe(false);
    expect(attributed(entry({ role: "service" }))).toBe(false);
  });

  it("org-level actions rest on no relationship by design; a job is attributed to its service identity", () => {
    for (const action of Object.keys(ORG_LEVEL_PHI_ACTIONS))
      expect(attributed(entry({ action, basis: ["none"] }))).toBe(true);
    expect(attributed(entry({ actorType: "service", actorId: "job:transcribe", role: "service" }))).toBe(
      true,
    );
    expect(attributed(entry({ actorType: "service", actorId: "someone", role: "service" }))).toBe(false);
  });
});

describe("a break-glass grant's review", () => {
  it("is in time when another person reviewed it by the end of its window", () => {
    expect(reviewVerdict(grant(), 24)).toMatchObject({ ok: true, reviewed: true, selfReviewed: false });
    expect(reviewVerdict(grant({ reviewedAt: "2026-11-02T09:00:00.000Z" }), 24).ok).toBe(true);
  });

  it("is not when late, missing, or by the grantee", () => {
    expect(reviewVerdict(grant({ reviewedAt: "2026-11-02T09:00:00.001Z" }), 24).ok).toBe(false);
    expect(reviewVerdict(grant({ reviewedAt: "2026-11-01T20:00:00.000Z" }), 10).ok).toBe(false);
    const { reviewedAt: _, reviewedBy: __, ...pending } = grant({ status: "pending" });
    expect(reviewVerdict(pending, 24)).toMatchObject({ ok: false, reviewed: false });
    expect(reviewVerdict(grant({ reviewedBy: "coach-1" }), 24)).toMatchObject({
      ok: false,
      selfReviewed: true,
    });
    expect(reviewVerdict(grant({ status: "pending" }), 24).ok).toBe(false);
  });

  it("is due a window after the grant", () => {
    expect(reviewVerdict(grant(), 24).dueAt).toBe(Date.parse("2026-11-02T09:00:00.000Z"));
  });
});

describe("break-glass accesses", () => {
  const access = (overrides: Partial<TrailEntry>) =>
    entry({ breakGlass: true, basis: ["break_glass"], time: "2026-11-01T09:30:00.000Z", ...overrides });

  it("inside a grant of that user to that client, from its start to its end, are covered", () => {
    const entries = [
      access({}),
      access({ time: "2026-11-01T09:00:00.000Z" }),
      access({ time: "2026-11-01T10:00:00.000Z" }),
    ];
    expect(accessesOutsideGrants(entries, [grant()]).outside).toEqual([]);
  });

  it("before or after it, by another user, to another client, or with no grant at all, are not", () => {
    const entries = [
      access({ seq: 1, time: "2026-11-01T08:59:59.999Z" }),
      access({ seq: 2, time: "2026-11-01T10:00:00.001Z" }),
      access({ seq: 3, actorId: "coach-2" }),
      access({ seq: 4, clients: ["c1", "c2"] }),
    ];
    const { breakGlass, outside } = accessesOutsideGrants(entries, [grant()]);
    expect(breakGlass).toHaveLength(4);
    expect(outside.map((found) => found.seq)).toEqual([1, 2, 3, 4]);
    expect(accessesOutsideGrants([access({})], []).outside).toHaveLength(1);
  });

  it("only successful break-glass accesses by users count", () => {
    const entries = [access({ outcome: "denied" }), access({ actorType: "service" }), entry()];
    expect(accessesOutsideGrants(entries, []).breakGlass).toEqual([]);
  });
});

describe("the audit and monitoring checks as data", () => {
  it("are listed once each, and a failure of each is a valid report row (citation, remediation)", () => {
    const mine = [...auditChecks, ...monitoringChecks];
    expect(mine.length).toBeGreaterThanOrEqual(11);
    for (const check of mine) {
      expect(CHECKS.filter((listed) => listed.id === check.id)).toHaveLength(1);
      const row = {
        id: check.id,
        title: check.title,
        hipaa: check.hipaa,
        section: sectionOf(check.hipaa),
        layer: check.layer,
        status: "fail",
        severity: check.severity,
        weight: check.weight,
        evidence: { count: 1 },
        remediation: check.remediation,
      };
      expect(CheckResultSchema.safeParse(row).success, check.id).toBe(true);
    }
  });
});
