import type { CheckSeverity, CheckStatus } from "./check";

/**
 * The score: the share of evaluated weight that passed, where a check's weight is its severity's points
 * times its own weight (1–3). `not_applicable` is outside the ratio by definition; `not_evaluated` is
 * outside it too, but never silently: `coverage` is the evaluated share of everything that applies, and
 * the band says how far to trust the number. A critical failure caps the band at `at_risk`, whatever the
 * ratio: a report at 97 with the audit chain broken is not "strong".
 */
export const SEVERITY_POINTS: Readonly<Record<CheckSeverity, number>> = {
  critical: 10,
  high: 5,
  medium: 3,
  low: 1,
};

/** Lowest score of each band, best first; below the last one the band is `at_risk`. */
export const SCORE_BANDS = [
  { band: "strong", min: 90 },
  { band: "moderate", min: 75 },
  { band: "weak", min: 50 },
] as const;
export type ScoreBand = (typeof SCORE_BANDS)[number]["band"] | "at_risk";

export type Scored = { status: CheckStatus; severity: CheckSeverity; weight: number };

export type Score = {
  /** 0–100, whole numbers. */
  value: number;
  band: ScoreBand;
  counts: Record<CheckStatus, number>;
  /** Evaluated weight / applicable weight, 0–1 (3 decimals): how much of the score rests on evidence. */
  coverage: number;
};

export function scoreOf(checks: readonly Scored[]): Score {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, not_applicable: 0, not_evaluated: 0 };
  let passed = 0;
  let evaluated = 0;
  let applicable = 0;
  let criticalFailed = false;
  for (const check of checks) {
    counts[check.status]++;
    if (check.status === "not_applicable") continue;
    const points = SEVERITY_POINTS[check.severity] * check.weight;
    applicable += points;
    if (check.status === "not_evaluated") continue;
    evaluated += points;
    if (check.status === "pass") passed += points;
    else if (check.severity === "critical") criticalFailed = true;
  }
  const value = evaluated === 0 ? 0 : Math.floor((100 * passed) / evaluated);
  const band: ScoreBand = criticalFailed
    ? "at_risk"
    : (SCORE_BANDS.find((entry) => value >= entry.min)?.band ?? "at_risk");
  const coverage = applicable === 0 ? 0 : Math.round((1000 * evaluated) / applicable) / 1000;
  return { value, band, counts, coverage };
}
