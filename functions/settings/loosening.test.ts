import { describe, expect, it } from "vitest";
import { SET_CAP } from "../../shared/detection";
import { BUILT_IN_SETTINGS, TenantSettingsSchema } from "../../shared/settings";
import { validatePart } from "../../shared/validation";
import { LOOSENING_RULES, loosenings } from "./loosening";
import { changedPaths, mergeSettings } from "./patch";

/** What a patch on the built-in settings loosens, as the PATCH route judges it. */
const loosenedBy = (patch: unknown, from = BUILT_IN_SETTINGS) => {
  const after = TenantSettingsSchema.parse(mergeSettings(from, patch));
  return loosenings(from, after, changedPaths(from, after));
};

describe("which settings changes loosen a protection", () => {
  it("names each loosening change by key path and direction", () => {
    expect(
      loosenedBy({
        rateLimits: { enabled: false, perRole: { coach: 500 }, perOrg: 6_000, windowSeconds: 30 },
        blocking: { rateLimitedRequests: 1000, deniedRequests: 1000, blockSeconds: 60, windowSeconds: 10 },
        detectors: {
          bulkReadClients: 1999,
          excessiveAccessFactor: 100,
          bruteForceWindowSeconds: 60,
          breakGlassReviewHours: 168,
        },
        businessHours: { days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "23:59" },
        retentionYears: 1,
      }),
    ).toEqual([
      { path: "blocking.blockSeconds", direction: "lowered" },
      { path: "blocking.deniedRequests", direction: "raised" },
      { path: "blocking.rateLimitedRequests", direction: "raised" },
      { path: "blocking.windowSeconds", direction: "lowered" },
      { path: "businessHours.days", direction: "widened" },
      { path: "businessHours.end", direction: "raised" },
      { path: "businessHours.start", direction: "lowered" },
      { path: "detectors.breakGlassReviewHours", direction: "raised" },
      { path: "detectors.bruteForceWindowSeconds", direction: "lowered" },
      { path: "detectors.bulkReadClients", direction: "raised" },
      { path: "detectors.excessiveAccessFactor", direction: "raised" },
      { path: "rateLimits.enabled", direction: "turned_off" },
      { path: "rateLimits.perOrg", direction: "raised" },
      { path: "rateLimits.perRole.coach", direction: "raised" },
      { path: "rateLimits.windowSeconds", direction: "lowered" },
      { path: "retentionYears", direction: "lowered" },
    ]);
    expect(loosenedBy({ rateLimits: { costs: { export: 1 } } })).toEqual([
      { path: "rateLimits.costs.export", direction: "lowered" },
    ]);
    expect(loosenedBy({ businessHours: { timeZone: "Pacific/Auckland" } })).toEqual([
      { path: "businessHours.timeZone", direction: "changed" },
    ]);
  });

  it("finds nothing in a tightening change, nor in report settings", () => {
    expect(
      loosenedBy({
        rateLimits: { perRole: { coach: 50 }, perOrg: 1000, windowSeconds: 120, costs: { read: 2 } },
        blocking: { rateLimitedRequests: 10, deniedRequests: 5, blockSeconds: 3600, windowSeconds: 900 },
        detectors: {
          bulkReadClients: 10,
          excessiveAccessFactor: 2,
          deniedWindowSeconds: 3600,
          breakGlassReviewHours: 4,
        },
        businessHours: { days: [1, 2, 3], start: "09:00", end: "17:00" },
        reports: { schedule: "monthly", recipients: ["officer@example.com"] },
      }),
    ).toEqual([]);
    const off = TenantSettingsSchema.parse(
      mergeSettings(BUILT_IN_SETTINGS, { rateLimits: { enabled: false } }),
    );
    // Turning the limiter back on, or raising retention, tightens.
    expect(loosenedBy({ rateLimits: { enabled: true }, retentionYears: 7 }, off)).toEqual([]);
  });

  it("a swapped business day widens the days (one added counts, one removed does not hide it)", () => {
    expect(loosenedBy({ businessHours: { days: [1, 2, 3, 4, 7] } })).toEqual([
      { path: "businessHours.days", direction: "widened" },
    ]);
  });

  it("every protection key of the schema has a row (reports only do not)", () => {
    const leaves = (doc: unknown, prefix = ""): string[] =>
      typeof doc === "object" && doc !== null && !Array.isArray(doc)
        ? Object.entries(doc).flatMap(([key, value]) => leaves(value, prefix ? `${prefix}.${key}` : key))
        : [prefix];
    const patterns = LOOSENING_RULES.map(
      ([pattern]) => new RegExp(`^${pattern.replaceAll(".", "\\.").replaceAll("*", "[^.]*")}$`),
    );
    const unmatched = leaves(BUILT_IN_SETTINGS).filter((path) => !patterns.some((p) => p.test(path)));
    expect(unmatched.sort()).toEqual(["reports.recipients", "reports.schedule"]);
  });

  it("detector thresholds stay below the detectors' set cap, where a count stops growing", () => {
    for (const key of ["bulkReadClients", "excessiveAccessMinClients", "afterHoursReads"]) {
      expect(() =>
        validatePart(TenantSettingsSchema, { detectors: { [key]: SET_CAP - 1 } }, "s"),
      ).not.toThrow();
      expect(() => validatePart(TenantSettingsSchema, { detectors: { [key]: SET_CAP } }, "s")).toThrow();
    }
  });
});
