import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILT_IN_SETTINGS, TenantSettingsSchema } from "../../shared/settings";
import { validatePart } from "../../shared/validation";
import { changedPaths, mergeSettings } from "./patch";
import { UpdateSettingsSchema } from "./schema";

const refusals = (value: unknown) => {
  try {
    validatePart(UpdateSettingsSchema, value, "body");
    return [];
  } catch (error) {
    return (error as { details: unknown[] }).details;
  }
};

describe("settings patch", () => {
  it("merges objects key by key and replaces arrays and values whole", () => {
    const merged = mergeSettings(BUILT_IN_SETTINGS, {
      rateLimits: { perRole: { coach: 120 } },
      businessHours: { days: [6] },
      reports: { recipients: ["a@example.com"] },
    });
    expect(merged.rateLimits.perRole).toEqual({ ...BUILT_IN_SETTINGS.rateLimits.perRole, coach: 120 });
    expect(merged.rateLimits.costs).toEqual(BUILT_IN_SETTINGS.rateLimits.costs);
    expect(merged.businessHours.days).toEqual([6]);
    expect(merged.reports).toEqual({ schedule: "daily", recipients: ["a@example.com"] });
    expect(changedPaths(BUILT_IN_SETTINGS, merged)).toEqual([
      "businessHours.days",
      "rateLimits.perRole.coach",
      "reports.recipients",
    ]);
    // The current document is not changed in place.
    expect(BUILT_IN_SETTINGS.rateLimits.perRole.coach).toBe(100);
  });

  it("names exactly the leaves a patch changes, and nothing for a patch that sets values as they are", () => {
    const leaf = fc.oneof(
      fc.record({
        rateLimits: fc.record({ perRole: fc.record({ coach: fc.integer({ min: 1, max: 1000 }) }) }),
      }),
      fc.record({ retentionYears: fc.integer({ min: 1, max: 7 }) }),
      fc.record({
        blocking: fc.record({ blockSeconds: fc.integer({ min: 60, max: 3600 }) }, { requiredKeys: [] }),
      }),
      fc.record({
        businessHours: fc.record({ days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1 }) }),
      }),
    );
    const leaves = (doc: unknown, prefix = ""): string[] =>
      typeof doc === "object" && doc !== null && !Array.isArray(doc)
        ? Object.entries(doc).flatMap(([key, value]) => leaves(value, prefix ? `${prefix}.${key}` : key))
        : [prefix];
    const at = (doc: unknown, path: string) =>
      JSON.stringify(path.split(".").reduce((value, key) => (value as Record<string, unknown>)[key], doc));
    fc.assert(
      fc.property(fc.array(leaf, { maxLength: 4 }), (patches) => {
        const patch = patches.reduce<object>((all, one) => mergeSettings(all, one), {});
        const merged = TenantSettingsSchema.parse(mergeSettings(BUILT_IN_SETTINGS, patch));
        const differing = leaves(patch).filter((path) => at(patch, path) !== at(BUILT_IN_SETTINGS, path));
        expect(changedPaths(BUILT_IN_SETTINGS, merged)).toEqual([...new Set(differing)].sort());
        // Applying the same patch again changes nothing.
        expect(changedPaths(merged, mergeSettings(merged, patch))).toEqual([]);
      }),
    );
  });

  it("takes any subset of keys at any depth, with the schema's bounds and no unknown keys", () => {
    expect(refusals({ version: 0, settings: {} })).toEqual([]);
    expect(refusals({ version: 3, settings: { rateLimits: { perRole: { coach: 150 } } } })).toEqual([]);
    expect(refusals({ version: 1, settings: { businessHours: { end: "21:00" } } })).toEqual([]);
    expect(refusals({ version: 0, settings: { rateLimits: { perRole: { coach: 100_001 } } } })).toEqual([
      { field: "body.settings.rateLimits.perRole.coach", rule: "max:100000" },
    ]);
    expect(refusals({ version: 0, settings: { rateLimits: { perRoles: {} } } })).toEqual([
      { field: "body.settings.rateLimits.perRoles", rule: "unknown_field" },
    ]);
    expect(refusals({ version: 0, settings: { businessHours: { timeZone: "Nowhere/Special" } } })).toEqual([
      { field: "body.settings.businessHours.timeZone", rule: "time_zone" },
    ]);
    expect(refusals({ version: -1, settings: {} })).toEqual([{ field: "body.version", rule: "min:0" }]);
    expect(refusals({ settings: {} })).toEqual([{ field: "body.version", rule: "required" }]);
    expect(refusals({ version: 0 })).toEqual([{ field: "body.settings", rule: "required" }]);
    expect(refusals({ version: 0, settings: {}, extra: 1 })).toEqual([
      { field: "body.extra", rule: "unknown_field" },
    ]);
    expect(refusals(JSON.parse('{"version":0,"settings":{"__proto__":{"retentionYears":1}}}'))).toEqual([
      { field: "body.settings.__proto__", rule: "unknown_field" },
    ]);
  });
});
