import type { SecurityEventType, Severity } from "../security/events";
import type { SignalKind } from "../security/signals";
import type { TenantSettings } from "../settings/schema";
import { withinBusinessHours } from "./evaluate";
import {
  type AuditObservation,
  type Observation,
  type SignalObservation,
  signalMembers,
} from "./observations";

/**
 * The detectors, as data: one row per rule. A row says what the rule observes, which finding (event type,
 * severity) it raises, how it keys its subject, which settings (`detectors.*`) give its threshold and
 * window, how it measures (`Measure`, carried out by the engine against the detector state) and one small
 * function that picks what of an observation concerns it. A new rule is a new row (and at most a new
 * `select`); the stream jobs and the benchmark run whatever this table holds.
 */
export type DetectorKey = keyof TenantSettings["detectors"];

export type Measure =
  /** Every observation selected is a finding at once. */
  | "each"
  /** A finding at once, one per subject and hour: whatever repeats it within the hour is the same finding. */
  | "hourly"
  /** Distinct members per subject within a sliding window of `window` seconds reach `threshold`. */
  | "window"
  /** Distinct members per subject in the org's local day: at least `threshold`, and `factor` times above the user's and org's baselines. */
  | "baseline"
  /** The acting account is not active in the directory, or is blocked, at the time it acted. */
  | "account"
  /** A block begins (a finding) or ends: kept as the principal's block window for the `account` rule. */
  | "block";

/** What of an observation a rule counts: its subject, the members it adds, and a grant it names. */
export type Selection = { subject: string; members: readonly string[]; grantId?: string };

export type Rule = {
  id: string;
  event: SecurityEventType;
  severity: Severity;
  observes: "audit" | "signal";
  subject: "user" | "ip" | "grant";
  measure: Measure;
  threshold?: DetectorKey;
  window?: DetectorKey;
  factor?: DetectorKey;
  /**
   * The dedupe key's first part (default: the rule's id): rules that share it and key their windows alike
   * raise one finding per subject and window between them (two ways of counting one night are one alert).
   */
  dedupeAs?: string;
  select: (observation: Observation, settings: TenantSettings) => Selection | undefined;
};

const onAudit =
  (select: (entry: AuditObservation, settings: TenantSettings) => Selection | undefined) =>
  (observation: Observation, settings: TenantSettings) =>
    observation.source === "audit" ? select(observation, settings) : undefined;

const onSignals =
  (kinds: readonly SignalKind[], subject: (observation: SignalObservation) => string | undefined) =>
  (observation: Observation) => {
    if (observation.source !== "signal" || !kinds.includes(observation.signal.kind)) return undefined;
    const key = subject(observation);
    return key ? { subject: key, members: signalMembers(observation) } : undefined;
  };

/** A user's own successful action (service actors, refused and failed actions are no one's access). */
const byUser = (entry: AuditObservation) => entry.actor.type === "user" && entry.outcome === "success";
const phiAccess = (entry: AuditObservation) => byUser(entry) && entry.phiClients.length > 0;
const afterHours = (entry: AuditObservation, settings: TenantSettings) =>
  phiAccess(entry) && !withinBusinessHours(entry.at, settings.businessHours);

const FAILED_AUTHENTICATION: readonly SignalKind[] = ["unauthenticated", "sign_in_failed"];

export const RULES: readonly Rule[] = [
  {
    id: "brute_force_ip",
    event: "brute_force",
    severity: "high",
    observes: "signal",
    subject: "ip",
    measure: "window",
    threshold: "bruteForceFailures",
    window: "bruteForceWindowSeconds",
    select: onSignals(FAILED_AUTHENTICATION, ({ signal }) => signal.ip),
  },
  {
    id: "brute_force_user",
    event: "brute_force",
    severity: "high",
    observes: "signal",
    subject: "user",
    measure: "window",
    threshold: "bruteForceFailures",
    window: "bruteForceWindowSeconds",
    select: onSignals(FAILED_AUTHENTICATION, ({ signal }) => signal.userId),
  },
  {
    id: "excessive_access",
    event: "excessive_access",
    severity: "high",
    observes: "audit",
    subject: "user",
    measure: "baseline",
    threshold: "excessiveAccessMinClients",
    factor: "excessiveAccessFactor",
    // Records opened one by one: what a user's day of work is made of (a baseline of lists would hide it).
    select: onAudit((entry) =>
      phiAccess(entry) && entry.opened ? { subject: entry.actor.id, members: [entry.opened] } : undefined,
    ),
  },
  {
    id: "excessive_access_lists",
    event: "excessive_access",
    dedupeAs: "excessive_access",
    severity: "high",
    observes: "audit",
    subject: "user",
    measure: "baseline",
    threshold: "excessiveAccessMinClients",
    factor: "excessiveAccessFactor",
    // Every client whose PHI the user saw, list pages included, against baselines of the same: a list
    // crawl is a day's reading too.
    select: onAudit((entry) =>
      phiAccess(entry) ? { subject: entry.actor.id, members: entry.phiClients } : undefined,
    ),
  },
  {
    id: "after_hours_access",
    event: "after_hours_access",
    severity: "medium",
    observes: "audit",
    subject: "user",
    measure: "window",
    threshold: "afterHoursReads",
    window: "afterHoursWindowSeconds",
    // Distinct clients' records opened outside hours (a note and a session of one client are one read),
    // counted over a rolling night, not a calendar day: 23:30 and 00:30 are one night.
    select: onAudit((entry, settings) =>
      afterHours(entry, settings) && entry.opened
        ? { subject: entry.actor.id, members: [entry.opened] }
        : undefined,
    ),
  },
  {
    id: "after_hours_lists",
    event: "after_hours_access",
    dedupeAs: "after_hours_access",
    severity: "medium",
    observes: "audit",
    subject: "user",
    measure: "window",
    threshold: "afterHoursListClients",
    window: "afterHoursWindowSeconds",
    // Every client of every page outside hours: a Saturday glance at one's own caseload stays below it,
    // pages of the whole practice at 02:00 do not.
    select: onAudit((entry, settings) =>
      afterHours(entry, settings) ? { subject: entry.actor.id, members: entry.phiClients } : undefined,
    ),
  },
  {
    id: "break_glass",
    event: "break_glass",
    severity: "high",
    observes: "audit",
    subject: "grant",
    measure: "each",
    select: onAudit((entry) =>
      byUser(entry) && entry.action === "breakglass.grant"
        ? { subject: entry.actor.id, members: [entry.id], grantId: entry.resourceId }
        : undefined,
    ),
  },
  {
    id: "repeated_denials",
    event: "repeated_denials",
    severity: "medium",
    observes: "signal",
    subject: "user",
    measure: "window",
    threshold: "repeatedDenials",
    window: "deniedWindowSeconds",
    select: onSignals(["denied"], ({ signal }) => signal.userId),
  },
  {
    id: "bulk_read",
    event: "bulk_access",
    severity: "high",
    observes: "audit",
    subject: "user",
    measure: "window",
    threshold: "bulkReadClients",
    window: "bulkWindowSeconds",
    select: onAudit((entry) =>
      phiAccess(entry) ? { subject: entry.actor.id, members: entry.phiClients } : undefined,
    ),
  },
  {
    id: "bulk_read_sustained",
    event: "bulk_access",
    severity: "high",
    observes: "audit",
    subject: "user",
    measure: "window",
    threshold: "bulkSustainedClients",
    window: "bulkSustainedWindowSeconds",
    // The slower crawl: pages just under `bulkReadClients`, each outside the other's short window.
    select: onAudit((entry) =>
      phiAccess(entry) ? { subject: entry.actor.id, members: entry.phiClients } : undefined,
    ),
  },
  {
    id: "export",
    event: "bulk_access",
    severity: "medium",
    observes: "audit",
    subject: "user",
    measure: "each",
    select: onAudit((entry) =>
      byUser(entry) && entry.action.endsWith(".export")
        ? { subject: entry.actor.id, members: [entry.id] }
        : undefined,
    ),
  },
  {
    id: "inactive_account_entry",
    event: "inactive_account_access",
    severity: "critical",
    observes: "audit",
    subject: "user",
    measure: "account",
    select: onAudit((entry) =>
      byUser(entry) ? { subject: entry.actor.id, members: [entry.id] } : undefined,
    ),
  },
  {
    id: "inactive_account_signal",
    event: "inactive_account_access",
    severity: "critical",
    observes: "signal",
    subject: "user",
    // A disabled user's still-valid token may send thousands of requests: one alert per user and hour.
    measure: "hourly",
    select: onSignals(["inactive_account"], ({ signal }) => signal.userId ?? signal.ip ?? "unknown"),
  },
  {
    id: "principal_blocked",
    event: "principal_blocked",
    severity: "high",
    observes: "signal",
    subject: "user",
    measure: "block",
    select: onSignals(["blocked", "unblocked"], ({ signal }) => signal.userId),
  },
];
