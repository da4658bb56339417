import { v7 as timeOrderedId } from "uuid";
import { scheduleDecision } from "../../shared/compliance/schedule";
import { latestReportRow, markRestarted, putPendingReport } from "../../shared/compliance/store";
import { ServiceUnavailableError } from "../../shared/errors";
import { createJob, type JobInvocation, startJob } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { listOrgs } from "../../shared/people";
import { tenantSettings } from "../../shared/settings";

/**
 * The report scheduler (EventBridge, hourly): for every registered org whose report is due by its settings
 * (`reports.schedule`: daily by default, weekly or monthly; `shared/compliance/schedule.ts`), it records a
 * pending report and starts one `complianceReport` job for it; a failed report, or one pending past its
 * time, is started again under the same id (the job completes it). One run per org: an org with a report
 * under way gets no second one. One org's failure does not stop the others; any failure fails the run.
 */
export async function run(_event: unknown, job: Pick<JobInvocation, "service">, now = new Date()) {
  const orgs = await listOrgs();
  let requested = 0;
  let restarted = 0;
  const failed: string[] = [];
  for (const orgId of orgs) {
    try {
      const [settings, latest] = await Promise.all([tenantSettings(orgId), latestReportRow(orgId)]);
      const decision = scheduleDecision(settings.reports.schedule, latest, now);
      if (decision.action === "none") continue;
      let reportId: string;
      if (decision.action === "restart") {
        reportId = decision.reportId;
        await markRestarted(orgId, reportId, now.toISOString());
        restarted++;
      } else {
        reportId = timeOrderedId();
        const requestedAt = now.toISOString();
        await putPendingReport({
          orgId,
          reportId,
          requestedBy: job.service,
          requestedAt,
          trigger: "schedule",
        });
        requested++;
      }
      await startJob("complianceReport", { orgId, reportId });
    } catch (error) {
      failed.push(orgId);
      logger.warn("report scheduling failed for an org", { orgId, error });
    }
  }
  logger.info("compliance reports scheduled", { orgs: orgs.length, requested, restarted, failed });
  if (failed.length > 0) throw new ServiceUnavailableError("REPORT_SCHEDULING_FAILED");
  return { orgs: orgs.length, requested, restarted };
}

export const handler = createJob("scheduleReports", run);
