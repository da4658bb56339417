import { ServiceUnavailableError } from "../../shared/errors";
import { createJob, type JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { listOrgs } from "../../shared/people";
import { startVerificationJob } from "./verification";
import { AUDIT_VERIFICATION_FAILED } from "./verify.job";

/** Orgs whose verification is started at once. */
const BATCH = 10;

/**
 * The daily verification from genesis (EventBridge, once a day): starts a verification job
 * (`verify.job.ts`) of every registered org's whole trail, as the service `job:verifyAuditDaily`. A
 * verification from the latest checkpoint reads only the entries after it; this one also re-reads every
 * checkpointed entry and every disclosure pointer, which a function able to write records could have
 * changed since. Each job logs a security event when the trail is not intact or it cannot finish; an org
 * whose job cannot even be started is one too, and fails this run (so its error alarm fires as well).
 */
export async function run(_event: unknown, job: JobInvocation): Promise<{ orgs: number; started: number }> {
  const orgs = await listOrgs();
  let started = 0;
  const failed: string[] = [];
  for (let start = 0; start < orgs.length; start += BATCH) {
    const batch = orgs.slice(start, start + BATCH);
    const results = await Promise.allSettled(
      batch.map((orgId) => startVerificationJob({ service: job.service, orgId }, job.meta, "genesis")),
    );
    results.forEach((result, index) => {
      if (result.status === "fulfilled") started++;
      else failed.push(batch[index] as string);
    });
  }
  for (const orgId of failed)
    logger.warn("daily audit verification not started", { securityEvent: AUDIT_VERIFICATION_FAILED, orgId });
  logger.info("daily audit verifications started", { orgs: orgs.length, started });
  if (failed.length > 0) throw new ServiceUnavailableError("AUDIT_VERIFICATION_NOT_STARTED");
  return { orgs: orgs.length, started };
}

export const handler = createJob("verifyAuditDaily", run);
