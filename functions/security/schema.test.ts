import { describe, expect, it } from "vitest";
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, queryRange, SecurityEventQuerySchema } from "./schema";

const parse = (query: Record<string, string>) => SecurityEventQuerySchema.safeParse(query);
const DAY = 86_400_000;

describe("GET /security/events query", () => {
  it("takes a range, a type, a limit and a cursor", () => {
    const ok = parse({
      from: "2026-11-01T00:00:00Z",
      to: "2026-11-02T00:00:00Z",
      type: "break_glass_unreviewed",
      limit: "10",
      cursor: "abc",
    });
    expect(ok.success && ok.data).toMatchObject({ type: "break_glass_unreviewed", limit: 10 });
    expect(parse({}).success).toBe(true);
    // from = to: one instant is a valid range.
    expect(parse({ from: "2026-11-01T00:00:00Z", to: "2026-11-01T00:00:00Z" }).success).toBe(true);
  });

  it("refuses unknown parameters, unknown types, bad times, from after to, and ranges over the bound", () => {
    for (const query of <Record<string, string>[]>[
      { orgId: "other" },
      { type: "everything" },
      { from: "yesterday" },
      { to: "2026-11-01" },
      { from: "2026-11-02T00:00:00Z", to: "2026-11-01T00:00:00Z" },
      { from: "2024-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z" },
      { limit: "0" },
      { limit: "100" },
      { cursor: "x".repeat(2049) },
    ])
      expect(parse(query).success, JSON.stringify(query)).toBe(false);
    const oneDayTooMany = new Date(Date.parse("2026-11-01T00:00:00Z") - (MAX_RANGE_DAYS + 1) * DAY);
    expect(parse({ from: oneDayTooMany.toISOString(), to: "2026-11-01T00:00:00Z" }).success).toBe(false);
    // Only `from`, long ago: the range to now is too long.
    expect(parse({ from: "2020-01-01T00:00:00Z" }).success).toBe(false);
  });

  it("resolves the range in the store's time format, `to` defaulting to now and `from` to 30 days before", () => {
    const now = Date.parse("2026-11-24T12:00:00Z");
    expect(queryRange({}, now)).toEqual({
      from: new Date(now - DEFAULT_RANGE_DAYS * DAY).toISOString(),
      to: "2026-11-24T12:00:00.000Z",
    });
    // An instant without milliseconds still covers the items stored at that second (`…00.000Z`).
    expect(queryRange({ from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z" }, now)).toEqual({
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-02T00:00:00.000Z",
    });
  });
});
