import * as z from "zod";
import { ORG_ID } from "../../shared/auth";
import { produceOrRecordFailure } from "../../shared/compliance/produce";
import { ValidationError } from "../../shared/errors";
import { createJob, type JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";

/**
 * The compliance report job (started by `POST /reports` and by the scheduler; one org, one report id whose
 * pending row the starter wrote): produces, signs, stores and audits the report, or completes one a
 * failed run left halfway (`shared/compliance/produce.ts`). Lambda retries a failed start twice.
 */
export const ReportJobEvent = z.strictObject({
  orgId: z.string().regex(ORG_ID),
  reportId: z.uuid(),
});

export async function run(event: unknown, job: Pick<JobInvocation, "service" | "meta">) {
  const parsed = ReportJobEvent.safeParse(event);
  if (!parsed.success) throw new ValidationError([{ field: "event", rule: "report_job" }]);
  const { orgId, reportId } = parsed.data;
  const produced = await produceOrRecordFailure(orgId, reportId, { service: job.service, meta: job.meta });
  logger.info("compliance report", {
    orgId,
    reportId,
    score: produced.score,
    already: produced.already,
    alerted: produced.alert !== undefined,
  });
  return { orgId, reportId, status: produced.status, score: produced.score, sha256: produced.sha256 };
}

export const handler = createJob("complianceReport", run);
