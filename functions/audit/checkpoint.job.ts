import { checkpointIfChanged } from "../../shared/audit";
import { ServiceUnavailableError } from "../../shared/errors";
import { createJob } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { listOrgs } from "../../shared/people";

/** Orgs checkpointed at once: enough to finish hundreds of orgs well inside the job's timeout. */
const BATCH = 10;

/**
 * The scheduled checkpoint job (EventBridge, every 5 minutes; locally `npm run audit:checkpoint`): a
 * signed checkpoint for every registered org whose chains moved. An org whose chains contradict a head
 * the live witness recorded is not checkpointed (a security event; `shared/audit/witness.ts`). One org's
 * failure does not stop the others; any failure fails the run, so the function's error alarm fires.
 */
export async function run(): Promise<{ orgs: number; written: number }> {
  const orgs = await listOrgs();
  let written = 0;
  const failed: string[] = [];
  for (let start = 0; start < orgs.length; start += BATCH) {
    const batch = orgs.slice(start, start + BATCH);
    const results = await Promise.allSettled(batch.map((orgId) => checkpointIfChanged(orgId)));
    results.forEach((result, index) => {
      if (result.status === "rejected") failed.push(batch[index] as string);
      else if (result.value) written++;
    });
  }
  logger.info("audit checkpoints", { orgs: orgs.length, written, failed });
  if (failed.length > 0) throw new ServiceUnavailableError("AUDIT_CHECKPOINT_FAILED");
  return { orgs: orgs.length, written };
}

export const handler = createJob("auditCheckpoint", run);
