import { describe, expect, it } from "vitest";
import { validatePart } from "../validation";
import { BUILT_IN_SETTINGS, TenantSettingsSchema } from "./schema";

/** The field/rule pairs a document is refused with (the same mapping a 400 uses), or [] if it parses. */
const refusals = (value: unknown) => {
  try {
    validatePart(TenantSettingsSchema, value, "settings");
    return [];
  } catch (error) {
    return (error as { details: unknown[] }).details;
  }
};

describe("tenant settings schema", () => {
  it("gives every default from an empty document: the product's limits and the issue's figures", () => {
    expect(TenantSettingsSchema.parse({})).toEqual(BUILT_IN_SETTINGS);
    expect(BUILT_IN_SETTINGS.rateLimits).toEqual({
      enabled: true,
      windowSeconds: 60,
      perRole: { coach: 100, coach_lead: 200, admin: 300, compliance_officer: 300 },
      perOrg: 5000,
      costs: { read: 1, write: 2, upload: 10, export: 20 },
    });
    expect(BUILT_IN_SETTINGS.retentionYears).toBe(7);
    expect(BUILT_IN_SETTINGS.businessHours).toEqual({
      timeZone: "America/New_York",
      days: [1, 2, 3, 4, 5],
      start: "07:00",
      end: "20:00",
    });
    expect(BUILT_IN_SETTINGS.reports).toEqual({ schedule: "daily", recipients: [] });
  });

  it("fills nested defaults around the keys a document sets", () => {
    const parsed = TenantSettingsSchema.parse({ rateLimits: { perRole: { coach: 50 } } });
    expect(parsed.rateLimits.perRole).toEqual({ ...BUILT_IN_SETTINGS.rateLimits.perRole, coach: 50 });
    expect(parsed.blocking).toEqual(BUILT_IN_SETTINGS.blocking);
  });

  it("refuses values outside the bounds, naming the field and the rule", () => {
    expect(refusals({ retentionYears: 0 })).toEqual([{ field: "settings.retentionYears", rule: "min:1" }]);
    expect(refusals({ retentionYears: 8 })).toEqual([{ field: "settings.retentionYears", rule: "max:7" }]);
    expect(refusals({ retentionYears: 2.5 })).toEqual([
      { field: "settings.retentionYears", rule: "type:int" },
    ]);
    expect(refusals({ rateLimits: { perRole: { coach: 0 } } })).toEqual([
      { field: "settings.rateLimits.perRole.coach", rule: "min:1" },
    ]);
    expect(refusals({ blocking: { blockSeconds: 30 } })).toEqual([
      { field: "settings.blocking.blockSeconds", rule: "min:60" },
    ]);
    expect(refusals({ detectors: { excessiveAccessFactor: 1 } })).toEqual([
      { field: "settings.detectors.excessiveAccessFactor", rule: "min:1.5" },
    ]);
    expect(refusals({ reports: { schedule: "hourly" } })).toEqual([
      { field: "settings.reports.schedule", rule: "one_of" },
    ]);
  });

  it("refuses a rate no single limiter item can serve: org ≤ 500 and a principal ≤ 100 units per second", () => {
    expect(refusals({ rateLimits: { perOrg: 30_000 } })).toEqual([]);
    // A 1 s window: the org's million and the roles' default quotas (100 to 300 per second) alike.
    expect(refusals({ rateLimits: { perOrg: 1_000_000, windowSeconds: 1 } })).toEqual([
      { field: "settings.rateLimits.perOrg", rule: "max_per_second:500" },
      { field: "settings.rateLimits.perRole.coach_lead", rule: "max_per_second:100" },
      { field: "settings.rateLimits.perRole.admin", rule: "max_per_second:100" },
      { field: "settings.rateLimits.perRole.compliance_officer", rule: "max_per_second:100" },
    ]);
    expect(refusals({ rateLimits: { perOrg: 30_001 } })).toEqual([
      { field: "settings.rateLimits.perOrg", rule: "max_per_second:500" },
    ]);
    expect(refusals({ rateLimits: { perRole: { coach: 6000 } } })).toEqual([]);
    expect(refusals({ rateLimits: { perRole: { admin: 6001 } } })).toEqual([
      { field: "settings.rateLimits.perRole.admin", rule: "max_per_second:100" },
    ]);
    // The same quota over a longer window is a slower rate, within bounds.
    expect(refusals({ rateLimits: { perOrg: 1_000_000, windowSeconds: 3600 } })).toEqual([]);
  });

  it("refuses unknown keys at every depth (a role that does not exist too)", () => {
    expect(refusals({ surprise: 1 })).toEqual([{ field: "settings.surprise", rule: "unknown_field" }]);
    expect(refusals({ rateLimits: { perRole: { intern: 10 } } })).toEqual([
      { field: "settings.rateLimits.perRole.intern", rule: "unknown_field" },
    ]);
  });

  it("takes IANA time zones only, not offsets or abbreviations", () => {
    for (const timeZone of ["Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC"])
      expect(refusals({ businessHours: { timeZone } })).toEqual([]);
    for (const timeZone of ["+02:00", "CET", "EST", "Mars/Olympus", "", "x".repeat(65)])
      expect(refusals({ businessHours: { timeZone } })).not.toEqual([]);
    expect(refusals({ businessHours: { timeZone: "Mars/Olympus" } })).toEqual([
      { field: "settings.businessHours.timeZone", rule: "time_zone" },
    ]);
  });

  it("keeps business hours sensible: 24-hour clock times, start before end, each weekday once", () => {
    expect(refusals({ businessHours: { start: "09:00", end: "17:30" } })).toEqual([]);
    expect(refusals({ businessHours: { start: "18:00", end: "09:00" } })).toEqual([
      { field: "settings.businessHours.end", rule: "after_start" },
    ]);
    expect(refusals({ businessHours: { start: "09:00", end: "09:00" } })).toEqual([
      { field: "settings.businessHours.end", rule: "after_start" },
    ]);
    expect(refusals({ businessHours: { start: "9:00" } })).toEqual([
      { field: "settings.businessHours.start", rule: "format:regex" },
    ]);
    expect(refusals({ businessHours: { end: "24:00" } })).toEqual([
      { field: "settings.businessHours.end", rule: "format:regex" },
    ]);
    expect(refusals({ businessHours: { days: [1, 1] } })).toEqual([
      { field: "settings.businessHours.days", rule: "unique" },
    ]);
    expect(refusals({ businessHours: { days: [0] } })).toEqual([
      { field: "settings.businessHours.days.0", rule: "min:1" },
    ]);
    expect(refusals({ businessHours: { days: [] } })).toEqual([
      { field: "settings.businessHours.days", rule: "min:1" },
    ]);
  });

  it("takes report recipients as email addresses, at most 20, and never names one in a refusal", () => {
    const refused = refusals({ reports: { recipients: ["ok@example.com", "jane.roe@"] } });
    expect(refused).toEqual([{ field: "settings.reports.recipients.1", rule: "format:email" }]);
    expect(JSON.stringify(refused)).not.toContain("jane.roe");
    const many = Array.from({ length: 21 }, (_, i) => `r${i}@example.com`);
    expect(refusals({ reports: { recipients: many } })).toEqual([
      { field: "settings.reports.recipients", rule: "max:20" },
    ]);
  });
});
