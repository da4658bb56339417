import { describe, expect, it } from "vitest";
import { accessesByDay, grantTimeline, MAX_ACTIVITY_GRANTS, MAX_ACTIVITY_ROWS } from "./activity";
import { ActivitySchema } from "./report";
import type { GrantRecord, TrailEntry } from "./trail";

const entry = (time: string, role: string, overrides: Partial<TrailEntry> = {}): TrailEntry => ({
  chain: "ORG#o#SHARD#0",
  seq: 1,
  at: `${time}#ORG#o#SHARD#0#000000000001`,
  time,
  actorType: "user",
  actorId: "u",
  role,
  action: "client.read",
  outcome: "success",
  fields: 1,
  clients: ["c1"],
  breakGlass: false,
  basis: ["assigned"],
  ...overrides,
});

describe("the report's activity", () => {
  it("counts successful PHI accesses per UTC day and role, in day then role order", () => {
    const rows = accessesByDay([
      entry("2026-11-02T23:59:59.999Z", "coach"),
      entry("2026-11-01T00:00:00.000Z", "coach_lead"),
      entry("2026-11-01T12:00:00.000Z", "coach"),
      entry("2026-11-01T13:00:00.000Z", "coach"),
      entry("2026-11-01T13:00:00.000Z", "coach", { outcome: "denied" }),
      entry("2026-11-01T13:00:00.000Z", "coach", { fields: 0 }),
      entry("2026-11-01T13:00:00.000Z", "admin", { clients: [] }),
    ]);
    expect(rows).toEqual([
      { day: "2026-11-01", role: "coach", count: 2 },
      { day: "2026-11-01", role: "coach_lead", count: 1 },
      { day: "2026-11-02", role: "coach", count: 1 },
    ]);
  });

  it("keeps the latest rows within the schema's bound", () => {
    const start = Date.parse("2000-01-01T00:00:00.000Z");
    const entries = Array.from({ length: MAX_ACTIVITY_ROWS + 5 }, (_, day) =>
      entry(new Date(start + day * 86_400_000).toISOString(), "coach"),
    );
    const rows = accessesByDay(entries);
    expect(rows).toHaveLength(MAX_ACTIVITY_ROWS);
    expect(rows[0]?.day).toBe(new Date(start + 5 * 86_400_000).toISOString().slice(0, 10));
    expect(ActivitySchema.safeParse({ phiAccessesByDay: rows, breakGlass: [] }).success).toBe(true);
  });

  it("lists the period's grants in time order with their review times, the latest within the bound", () => {
    const period = { from: "2026-11-01T00:00:00.000Z", to: "2026-11-02T00:00:00.000Z" };
    const grant = (grantId: string, grantedAt: string, reviewedAt?: string): GrantRecord => ({
      grantId,
      clientId: "c",
      userId: "u",
      grantedAt,
      expiresAt: grantedAt,
      status: reviewedAt ? "reviewed" : "pending",
      ...(reviewedAt && { reviewedBy: "o", reviewedAt }),
    });
    expect(
      grantTimeline(
        [
          grant("late", "2026-11-01T20:00:00.000Z"),
          grant("early", "2026-11-01T00:00:00.000Z", "2026-11-01T05:00:00.000Z"),
          grant("before", "2026-10-31T23:59:59.999Z"),
          grant("after", "2026-11-02T00:00:00.000Z"),
        ],
        period,
      ),
    ).toEqual([
      { grantId: "early", grantedAt: "2026-11-01T00:00:00.000Z", reviewedAt: "2026-11-01T05:00:00.000Z" },
      { grantId: "late", grantedAt: "2026-11-01T20:00:00.000Z", reviewedAt: null },
    ]);
    const many = Array.from({ length: MAX_ACTIVITY_GRANTS + 1 }, (_, n) =>
      grant(`g${n}`, new Date(Date.parse(period.from) + n * 1000).toISOString()),
    );
    const listed = grantTimeline(many, period);
    expect(listed).toHaveLength(MAX_ACTIVITY_GRANTS);
    expect(listed[0]?.grantId).toBe("g1");
  });

  it("never holds what the schema refuses: a planted empty role, a grant record altered out of shape", () => {
    const rows = accessesByDay([entry("2026-11-01T10:00:00.000Z", "")]);
    expect(rows).toEqual([{ day: "2026-11-01", role: "unknown", count: 1 }]);
    const period = { from: "2026-11-01T00:00:00.000Z", to: "2026-11-02T00:00:00.000Z" };
    const altered = {
      grantId: "g",
      clientId: "c",
      userId: "u",
      grantedAt: "2026-11-01T10:00:00+02:00",
      expiresAt: "x",
      status: "pending",
    } as const;
    expect(grantTimeline([altered], period)).toEqual([]);
  });
});
