import { type CheckContext, evidenceText } from "./check";
import { type Activity, ActivitySchema, type ReportBody } from "./report";

import { type GrantRecord, grantsSince, isPhiAccess, periodTrail, type TrailEntry } from "./trail";

const GrantRow = ActivitySchema.shape.breakGlass.element;

/** The schema's bounds (`ActivitySchema`): rows of the day × role chart, and grants listed. */
export const MAX_ACTIVITY_ROWS = 10_000;
export const MAX_ACTIVITY_GRANTS = 1_000;

/** PHI accesses per UTC day and role, by day then role; the most recent days are kept when there are too many rows. */
export function accessesByDay(entries: readonly TrailEntry[]): Activity["phiAccessesByDay"] {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    if (!isPhiAccess(entry)) continue;
    // A role is never empty in an entry this code writes; text someone planted still draws as a row.
    const key = `${entry.time.slice(0, 10)}\n${evidenceText(entry.role || "unknown")}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows = [...counts]
    .map(([key, count]) => {
      const [day, role] = key.split("\n") as [string, string];
      return { day, role, count };
    })
    .sort((a, b) => (a.day === b.day ? a.role.localeCompare(b.role) : a.day < b.day ? -1 : 1));
  return rows.slice(-MAX_ACTIVITY_ROWS);
}

/** The period's grants in time order, with when (if) each was reviewed; the latest are kept past the bound. */
export function grantTimeline(
  grants: readonly GrantRecord[],
  period: ReportBody["period"],
): Activity["breakGlass"] {
  return (
    grants
      .filter((grant) => grant.grantedAt >= period.from && grant.grantedAt < period.to)
      .sort((a, b) => (a.grantedAt < b.grantedAt ? -1 : a.grantedAt > b.grantedAt ? 1 : 0))
      .map((grant) => ({
        grantId: grant.grantId,
        grantedAt: grant.grantedAt,
        reviewedAt: grant.status === "reviewed" && grant.reviewedAt ? grant.reviewedAt : null,
      }))
      // A record is written by the grant route; one altered into something the report cannot hold is left out.
      .filter((row) => GrantRow.safeParse(row).success)
      .slice(-MAX_ACTIVITY_GRANTS)
  );
}

/**
 * What the report's charts draw for a period: audited PHI accesses per UTC day and role (from the period's
 * entries through the byOrg index, read once with the checks through the report's `memo`), and the period's break-glass
 * grants with their reviews.
 */
export async function reportActivity(request: {
  orgId: string;
  period: ReportBody["period"];
  memo?: CheckContext["memo"];
}): Promise<Activity> {
  const [trail, grants] = await Promise.all([
    periodTrail(request.orgId, request.period, request.memo),
    grantsSince(request.orgId, request.period.from),
  ]);
  return {
    phiAccessesByDay: accessesByDay(trail.entries),
    breakGlass: grantTimeline(grants, request.period),
  };
}
