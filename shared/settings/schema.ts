import * as z from "zod";
import { ROLES } from "../auth/roles";
import { SET_CAP } from "../detection/state";

/**
 * Tenant settings: what an org (or the platform default) decides about protection, monitoring,
 * retention and reports. One strict schema gives the bounds (a PATCH outside them is a 400) and every
 * default: `TenantSettingsSchema.parse({})` is the platform default the code ships with.
 *
 * Zod 4's `.default(value)` returns the value unparsed; `.prefault({})` parses `{}` so the nested
 * defaults apply, which is what every nested object below wants. Refinements carry `params.rule`: the
 * rule a 400 names (`time_zone`, `unique`, `after_start`), never the value.
 */
const count = (max: number) => z.int().min(1).max(max);
const seconds = (min: number, max: number) => z.int().min(min).max(max);

/** What a route costs against a limit: its manifest `rateCost` (reads by default cost 1). */
export const RATE_COSTS = ["read", "write", "upload", "export"] as const;
export type RateCost = (typeof RATE_COSTS)[number];

/** Per role, per window: coaches as the product's requirement says, more for those who oversee them. */
const ROLE_QUOTAS = { coach: 100, coach_lead: 200, admin: 300, compliance_officer: 300 } as const;

/**
 * The steadiest rates a bucket may admit, in cost units per second (quota ÷ window). Every request writes
 * its principal's item and its org's item once (a refusal too: a failed conditional write costs the same
 * write unit), and one DynamoDB item takes at most 1,000 writes per second (its partition's ceiling):
 * the org's bucket at 500 per second keeps half of that as headroom for refunds and retries; a person at
 * 100 per second is already far past anything a client app makes a human do.
 */
export const MAX_ORG_UNITS_PER_SECOND = 500;
export const MAX_PRINCIPAL_UNITS_PER_SECOND = 100;

const RateLimitsObject = z.strictObject({
  /**
   * The rate limits (per principal and per org) on or off for the org. Off only for a measured reason (the
   * limits benchmark's baseline). Blocking stays on either way: blocks are checked and denials counted.
   */
  enabled: z.boolean().default(true),
  /** The window a quota is counted over (the `w` of the RateLimit-Policy header). */
  windowSeconds: seconds(1, 3600).default(60),
  /** Requests (in cost units) one principal may make per window, by role. */
  perRole: z
    .strictObject(
      Object.fromEntries(ROLES.map((role) => [role, count(100_000).default(ROLE_QUOTAS[role])])) as {
        [R in (typeof ROLES)[number]]: z.ZodDefault<z.ZodInt>;
      },
    )
    .prefault({}),
  /** Cost units a whole org may spend per window, all its principals together. */
  perOrg: count(1_000_000).default(5000),
  /** Cost units per request, by the route's cost class. */
  costs: z
    .strictObject({
      read: count(1000).default(1),
      write: count(1000).default(2),
      upload: count(1000).default(10),
      export: count(1000).default(20),
    })
    .prefault({}),
});

const RateLimitsSchema = RateLimitsObject.superRefine((limits, ctx) => {
  const perSecond = (quota: number) => quota / limits.windowSeconds;
  if (perSecond(limits.perOrg) > MAX_ORG_UNITS_PER_SECOND)
    ctx.addIssue({
      code: "custom",
      message: `at most ${MAX_ORG_UNITS_PER_SECOND} per second (perOrg ÷ windowSeconds)`,
      path: ["perOrg"],
      params: { rule: `max_per_second:${MAX_ORG_UNITS_PER_SECOND}` },
    });
  for (const [role, quota] of Object.entries(limits.perRole))
    if (perSecond(quota) > MAX_PRINCIPAL_UNITS_PER_SECOND)
      ctx.addIssue({
        code: "custom",
        message: `at most ${MAX_PRINCIPAL_UNITS_PER_SECOND} per second (quota ÷ windowSeconds)`,
        path: ["perRole", role],
        params: { rule: `max_per_second:${MAX_PRINCIPAL_UNITS_PER_SECOND}` },
      });
});

/** The longest block any org may configure: a limiter item blocked beyond it was not blocked by the limiter. */
export const MAX_BLOCK_SECONDS = 7 * 86_400;

const BlockingSchema = z.strictObject({
  /** Requests refused for the rate limit within `windowSeconds` that block the principal. */
  rateLimitedRequests: count(100_000).default(50),
  /** Authorization denials (403) within `windowSeconds` that block the principal. */
  deniedRequests: count(10_000).default(20),
  windowSeconds: seconds(10, 86_400).default(300),
  /** How long a block lasts (an admin may lift it earlier). */
  blockSeconds: seconds(60, MAX_BLOCK_SECONDS).default(900),
});

/** An IANA time zone this runtime knows (`Europe/Berlin`), not an offset. */
const TimeZone = z
  .string()
  .max(64)
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat("en", { timeZone: zone });
        return zone.includes("/") || zone === "UTC";
      } catch {
        return false;
      }
    },
    { message: "an IANA time zone such as Europe/Berlin", params: { rule: "time_zone" } },
  );
// Aborts: a malformed time is that field's error alone, not also "start before end" on a comparison of junk.
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: "HH:MM, 24-hour", abort: true });

const BusinessHoursSchema = z
  .strictObject({
    timeZone: TimeZone.default("America/New_York"),
    /** ISO weekdays (1 = Monday … 7 = Sunday) the org works. */
    days: z
      .array(z.int().min(1).max(7))
      .min(1)
      .max(7)
      .refine((days) => new Set(days).size === days.length, {
        message: "each day once",
        params: { rule: "unique" },
      })
      .default([1, 2, 3, 4, 5]),
    start: ClockTime.default("07:00"),
    end: ClockTime.default("20:00"),
  })
  .refine((hours) => hours.start < hours.end, {
    message: "start before end",
    path: ["end"],
    params: { rule: "after_start" },
  });

/**
 * A detector threshold counts members of a detector set, which holds SET_CAP at most: a threshold at or
 * past it would never be reached, and the rule would never fire (thresholds bounded lower keep their bound).
 */
const threshold = count(SET_CAP - 1);

const DetectorsSchema = z.strictObject({
  /** Failed sign-ins or 401s from one user or IP within `bruteForceWindowSeconds`. */
  bruteForceFailures: count(1000).default(10),
  bruteForceWindowSeconds: seconds(60, 86_400).default(600),
  /** Distinct clients a user read in 24 h, over this many times the larger of their and the org's baseline. */
  excessiveAccessFactor: z.number().min(1.5).max(100).default(3),
  /** …and at least this many distinct clients (a baseline of 2 makes 7 no alarm). */
  excessiveAccessMinClients: threshold.default(15),
  /** Authorization denials of one user within `deniedWindowSeconds`. */
  repeatedDenials: count(1000).default(5),
  deniedWindowSeconds: seconds(60, 86_400).default(900),
  /** Distinct clients' PHI in one request or within `bulkWindowSeconds`, or exports within it. */
  bulkReadClients: threshold.default(40),
  bulkWindowSeconds: seconds(60, 86_400).default(600),
  /** The slower bulk rule: distinct clients' PHI (list pages included) within `bulkSustainedWindowSeconds`. */
  bulkSustainedClients: threshold.default(100),
  bulkSustainedWindowSeconds: seconds(600, 86_400).default(3600),
  /** Distinct clients' records opened outside business hours by one user within `afterHoursWindowSeconds` (1 = every one). */
  afterHoursReads: threshold.default(5),
  /** Distinct clients' PHI outside business hours, list pages included, within the same window. */
  afterHoursListClients: threshold.default(40),
  /** The after-hours rules' rolling window (a night, not a calendar day: the count goes on past midnight). */
  afterHoursWindowSeconds: seconds(3600, 86_400).default(43_200),
  /** A break-glass grant not reviewed within this is a finding. */
  breakGlassReviewHours: count(168).default(24),
});

const ReportsSchema = z.strictObject({
  schedule: z.enum(["daily", "weekly", "monthly"]).default("daily"),
  /** Who receives report notifications (addresses; masked wherever they appear in logs). */
  recipients: z.array(z.email().max(254)).max(20).default([]),
});

/**
 * The covered entity's acceptance of the Business Associate Agreement (§164.314(a)): when, by which user
 * (an id, never a name), and which version of the agreement. Absent until an admin records it.
 */
const BaaSchema = z.strictObject({
  acceptedAt: z.iso.datetime({ offset: false }),
  acceptedBy: z.string().min(1).max(128),
  version: z.string().min(1).max(40),
});

export const TenantSettingsSchema = z.strictObject({
  rateLimits: RateLimitsSchema.prefault({}),
  blocking: BlockingSchema.prefault({}),
  businessHours: BusinessHoursSchema.prefault({}),
  detectors: DetectorsSchema.prefault({}),
  /** Years PHI is kept after a client's discharge or last activity (the data-lifecycle issue uses it). */
  retentionYears: z.int().min(1).max(7).default(7),
  reports: ReportsSchema.prefault({}),
  baa: BaaSchema.optional(),
});

export type TenantSettings = z.infer<typeof TenantSettingsSchema>;

/** The settings the code ships with, used where neither the org nor the platform has stored any. */
export const BUILT_IN_SETTINGS: TenantSettings = TenantSettingsSchema.parse({});
