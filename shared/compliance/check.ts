import type { TenantSettings } from "../settings";

/**
 * A compliance check is data: an id, what it proves, the HIPAA Security Rule citation, how much it
 * matters, and one function that gathers evidence and decides. The engine (`evaluate.ts`) runs every
 * check of `checks/index.ts` for an org; a check never decides the score, the report's layout or where
 * it is stored.
 */

/** The five sections of the Security Rule (45 CFR Part 164, Subpart C). */
export const HIPAA_SECTIONS = ["164.308", "164.310", "164.312", "164.314", "164.316"] as const;
export type HipaaSection = (typeof HIPAA_SECTIONS)[number];

export const CHECK_SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type CheckSeverity = (typeof CHECK_SEVERITIES)[number];

export const CHECK_STATUSES = ["pass", "fail", "not_applicable", "not_evaluated"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** What the report may say about a check's subject: ids, counts, times, flags. Never PHI. */
export type EvidenceValue = string | number | boolean | null | (string | number)[];
export type Evidence = Readonly<Record<string, EvidenceValue>>;

/**
 * Text read from a table or an object (a time, an id) as evidence: bounded to what the report's schema
 * admits in a list (128 characters), so an item someone tampered with cannot make the report unwritable.
 */
export const evidenceText = (value: unknown): string => String(value).slice(0, 128);

/** What a check decided. `pass` needs evidence; `fail` may name a sharper remediation than the default. */
export type Outcome =
  | { status: "pass"; evidence: Evidence; carry?: unknown }
  | { status: "fail"; evidence: Evidence; remediation?: string; carry?: unknown }
  | { status: "not_applicable"; reason: string; evidence?: Evidence }
  | { status: "not_evaluated"; reason: string; evidence?: Evidence };

/** The previous report of the org, as the next run builds on it (incremental evidence). */
export type PreviousReport = {
  reportId: string;
  generatedAt: string;
  score: number;
  statuses: Readonly<Record<string, CheckStatus>>;
  /** What each check carried forward (`Outcome.carry`), by check id; never part of the signed JSON. */
  carry: Readonly<Record<string, unknown>>;
};

export type CheckContext = {
  orgId: string;
  /** The period the report covers: activity checks look at entries in [from, to). */
  period: { from: string; to: string };
  /** The report's clock: every "older than" and "within" is measured from here, not from `Date.now()`. */
  now: Date;
  settings: TenantSettings;
  previous?: PreviousReport;
  /** What this check carried forward last time (`previous.carry[check.id]`). */
  carried?: unknown;
  /**
   * Loads shared by several checks, computed once per report (the org's users, the period's audit entries
   * …): `memo(key, load)` returns the same promise for the same key within one report.
   */
  memo: <T>(key: string, load: () => Promise<T>) => Promise<T>;
};

export type CheckDefinition = {
  /** Stable, scripted against: `<area>.<what>` in kebab case, e.g. `audit.chain-verifies`. */
  id: string;
  title: string;
  /** The citation, e.g. `164.312(b)`: its section is the part before the first parenthesis. */
  hipaa: string;
  /** `application`: only this product can see it; `infrastructure`: the AWS account's configuration. */
  layer: "application" | "infrastructure" | "organizational";
  severity: CheckSeverity;
  /** 1–3: how much of its severity's weight the check carries. */
  weight: 1 | 2 | 3;
  /** What to do when it fails (the report prints it first). */
  remediation: string;
  evaluate: (context: CheckContext) => Promise<Outcome>;
};

export const sectionOf = (hipaa: string): HipaaSection => {
  const section = hipaa.split("(")[0] as HipaaSection;
  if (!HIPAA_SECTIONS.includes(section)) throw new Error(`not a Security Rule citation: ${hipaa}`);
  return section;
};

/** Outcome builders: a check's `evaluate` returns one of these. */
export const passed = (evidence: Evidence, carry?: unknown): Outcome => ({
  status: "pass",
  evidence,
  ...(carry !== undefined && { carry }),
});
export const failed = (evidence: Evidence, remediation?: string, carry?: unknown): Outcome => ({
  status: "fail",
  evidence,
  ...(remediation && { remediation }),
  ...(carry !== undefined && { carry }),
});
/** A pass when `holds`, else a fail, on the same evidence. */
export const passIf = (holds: boolean, evidence: Evidence): Outcome =>
  holds ? passed(evidence) : failed(evidence);

/** Helpers for checks that cannot be evaluated where they run, or do not apply to the product. */
export const notEvaluated = (reason: string, evidence?: Evidence): Outcome => ({
  status: "not_evaluated",
  reason,
  ...(evidence && { evidence }),
});
export const notApplicable = (reason: string): Outcome => ({ status: "not_applicable", reason });
