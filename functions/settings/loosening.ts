/**
 * Which settings changes weaken a protection: the one table a `settings_weakened` finding is raised from.
 * Each row names leaf key paths (`*` one segment or part of one) and the direction that loosens; the first
 * row whose pattern matches a changed path decides it, so specific rows come before the wildcard ones.
 * Directions judge the setting's meaning, not its name: a count reached within a shorter window is harder
 * to reach (a shorter window loosens), a higher excessive-access factor asks for more before it alerts.
 * Report settings protect nothing: no row, never a finding.
 */
export type Loosening = "raised" | "lowered" | "turned_off" | "widened" | "changed";

export const LOOSENING_RULES: readonly (readonly [pattern: string, loosens: Loosening])[] = [
  ["rateLimits.enabled", "turned_off"],
  // A quota counted over a shorter window admits more requests per hour.
  ["rateLimits.windowSeconds", "lowered"],
  ["rateLimits.perRole.*", "raised"],
  ["rateLimits.perOrg", "raised"],
  // A cheaper route spends less of the quota.
  ["rateLimits.costs.*", "lowered"],
  ["blocking.windowSeconds", "lowered"],
  ["blocking.blockSeconds", "lowered"],
  ["blocking.*", "raised"],
  // Business hours: after-hours access is what falls outside them.
  ["businessHours.days", "widened"],
  ["businessHours.start", "lowered"],
  ["businessHours.end", "raised"],
  // Another zone moves every hour: as likely onto the night as off it.
  ["businessHours.timeZone", "changed"],
  ["detectors.*WindowSeconds", "lowered"],
  ["detectors.excessiveAccessFactor", "raised"],
  ["detectors.breakGlassReviewHours", "raised"],
  // Every other detector key is a threshold (a new one too, until it has a row of its own).
  ["detectors.*", "raised"],
  ["retentionYears", "lowered"],
];

const matcher = (pattern: string) =>
  new RegExp(`^${pattern.replaceAll(".", "\\.").replaceAll("*", "[^.]*")}$`);
const RULES = LOOSENING_RULES.map(([pattern, loosens]) => ({ matches: matcher(pattern), loosens }));

/** Whether a value moved in the direction that loosens (numbers, or HH:MM times, compare as ordered). */
function loosened(direction: Loosening, before: unknown, after: unknown): boolean {
  switch (direction) {
    case "raised":
      return typeof before === typeof after && (after as number | string) > (before as number | string);
    case "lowered":
      return typeof before === typeof after && (after as number | string) < (before as number | string);
    case "turned_off":
      return before === true && after === false;
    case "widened":
      return (
        Array.isArray(after) && after.some((value) => !(Array.isArray(before) && before.includes(value)))
      );
    case "changed":
      return JSON.stringify(before) !== JSON.stringify(after);
  }
}

const at = (document: unknown, path: string) =>
  path
    .split(".")
    .reduce<unknown>(
      (value, key) =>
        typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined,
      document,
    );

/**
 * Of the changed key paths, those whose change loosens a protection, with how: key paths and directions
 * only, never a value (settings hold no PHI, but report recipients are addresses and have no row anyway).
 */
export function loosenings(
  before: unknown,
  after: unknown,
  changed: readonly string[],
): { path: string; direction: Loosening }[] {
  return changed.flatMap((path) => {
    const rule = RULES.find((candidate) => candidate.matches.test(path));
    return rule && loosened(rule.loosens, at(before, path), at(after, path))
      ? [{ path, direction: rule.loosens }]
      : [];
  });
}
