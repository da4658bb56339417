import { randomUUID } from "node:crypto";
import { v7 as timeOrderedId } from "uuid";
import { jobMeta } from "../../shared/audit";
import type { CheckDefinition } from "../../shared/compliance";
import { produceReport } from "../../shared/compliance/produce";
import { putPendingReport } from "../../shared/compliance/store";
import { serviceName } from "../../shared/jobs";

const SERVICE = serviceName("complianceReport");
export const reportJob = () => ({ service: SERVICE, meta: jobMeta(randomUUID(), SERVICE) });

/** A pending report row of the org, as `POST /reports` or the scheduler records one. */
export async function pendingReport(orgId: string): Promise<string> {
  const reportId = timeOrderedId();
  await putPendingReport({
    orgId,
    reportId,
    requestedBy: "test",
    requestedAt: new Date().toISOString(),
    trigger: "on_demand",
  });
  return reportId;
}

/** A done report of the org, produced in this process through the job's code (optionally with other checks). */
export async function producedReport(orgId: string, checks?: readonly CheckDefinition[]) {
  const reportId = await pendingReport(orgId);
  return produceReport(orgId, reportId, { ...reportJob(), ...(checks && { checks }) });
}

const done = new Map<string, Promise<string>>();
/** One done report of the org per test file (for fixtures that only need one to exist). */
export function doneReportOf(orgId: string): Promise<string> {
  if (!done.has(orgId))
    done.set(
      orgId,
      producedReport(orgId).then((produced) => produced.reportId),
    );
  return done.get(orgId) as Promise<string>;
}
