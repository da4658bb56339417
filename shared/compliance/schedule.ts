import type { TenantSettings } from "../settings";
import type { ReportRow } from "./store";

/**
 * When an org's next report is due, from its settings (`reports.schedule`: daily by default, weekly,
 * monthly) and its latest report row. The scheduler runs every `SCHEDULER_PERIOD_MINUTES`; a report is due
 * half a period early, so one requested at 03:10 is next requested by the 03:00 run, not pushed to 04:00,
 * and the time of day stays put instead of drifting a period a day.
 */
export const SCHEDULER_PERIOD_MINUTES = 60;
/**
 * A pending run older than this is taken to be lost (its job never ran, or failed every retry) and started
 * again: longer than a started event may wait in Lambda's queue (STARTED_EVENT_MAX_AGE_HOURS, 6 h) plus its
 * runs, so a restart never races a first run that is only queued.
 */
export const STALLED_PENDING_MINUTES = 8 * 60;

type Schedule = TenantSettings["reports"]["schedule"];

export function nextDue(schedule: Schedule, last: Date): Date {
  const next = new Date(last);
  if (schedule === "monthly") next.setUTCMonth(next.getUTCMonth() + 1);
  else next.setUTCDate(next.getUTCDate() + (schedule === "weekly" ? 7 : 1));
  return next;
}

/**
 * What the scheduler does for one org: nothing, start the report the latest row names again (failed, or
 * pending for too long), or request a new one.
 */
export type ScheduleDecision =
  | { action: "none" }
  | { action: "restart"; reportId: string }
  | { action: "new" };

export function scheduleDecision(
  schedule: Schedule,
  latest: ReportRow | undefined,
  now: Date,
): ScheduleDecision {
  if (!latest) return { action: "new" };
  const requestedAt = new Date(latest.requestedAt);
  if (latest.status !== "done") {
    // A failed report is started again at once, a pending one once it has stalled; either at most once a
    // stall period (its last start is noted).
    const started = Date.parse(latest.restartedAt ?? latest.requestedAt);
    const stalled = now.getTime() - started >= STALLED_PENDING_MINUTES * 60_000;
    const due = latest.status === "failed" ? latest.restartedAt === undefined || stalled : stalled;
    return due ? { action: "restart", reportId: latest.reportId } : { action: "none" };
  }
  const slack = (SCHEDULER_PERIOD_MINUTES / 2) * 60_000;
  return now.getTime() >= nextDue(schedule, requestedAt).getTime() - slack
    ? { action: "new" }
    : { action: "none" };
}
