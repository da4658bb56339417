import type { Activity, ReportBody } from "./report";

/**
 * What the report's charts draw for a period: audited PHI accesses per day and role, and the period's
 * break-glass grants with their reviews. (Round foundation: the audit-reading implementation replaces this.)
 */
export async function reportActivity(_request: {
  orgId: string;
  period: ReportBody["period"];
}): Promise<Activity> {
  return { phiAccessesByDay: [], breakGlass: [] };
}
