import { ServiceUnavailableError } from "../../shared/errors";
import { createJob, type JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { listPendingIdentityWork, syncIdentity } from "../../shared/people";
import { processInvitation } from "./invitations";

/**
 * The scheduled identity sync (EventBridge, every 5 minutes): the directory wins. For every user whose
 * change Cognito has not followed yet, it applies the directory's state (role group, enabled) again;
 * every invitation still pending after `inviteGraceMs` (its own job never started, or failed three
 * times) is processed here. One failure does not stop the others; any failure fails the run, so the
 * function's error alarm fires and the next run tries again.
 */
const INVITE_GRACE_MS = 5 * 60 * 1000;

export async function syncPending(job: JobInvocation, options: { inviteGraceMs?: number } = {}) {
  const cutoff = new Date(Date.now() - (options.inviteGraceMs ?? INVITE_GRACE_MS)).toISOString();
  const work = await listPendingIdentityWork();
  let users = 0;
  let invites = 0;
  let failed = 0;
  for (const item of work) {
    try {
      if (item.kind === "user") {
        if ((await syncIdentity(item.orgId, item.userId)) === "synced") users++;
        else failed++;
      } else if (item.since <= cutoff) {
        await processInvitation(item.orgId, item.inviteId, job);
        invites++;
      }
    } catch (error) {
      failed++;
      logger.warn("identity sync: an item failed", { kind: item.kind, orgId: item.orgId, error });
    }
  }
  logger.info("identity sync", { pending: work.length, users, invites, failed });
  if (failed > 0) throw new ServiceUnavailableError("IDENTITY_SYNC_INCOMPLETE");
  return { pending: work.length, users, invites };
}

export const run = (_event: unknown, job: JobInvocation) => syncPending(job);

export const handler = createJob("identitySync", run);
