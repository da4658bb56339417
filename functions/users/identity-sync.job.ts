import { ServiceUnavailableError } from "../../shared/errors";
import { createJob, startJob } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { listPendingIdentityWork, syncIdentity } from "../../shared/people";

/**
 * The scheduled identity sync (EventBridge, every 5 minutes): the directory wins. For every user whose
 * change Cognito has not followed yet, it applies the directory's state (role group, enabled) again; a
 * user Cognito can never follow (the account is gone from it) is marked `failed` once, with a security
 * event, and not retried. Every invitation still pending after `inviteGraceMs` (its own job never
 * started, or failed three times) gets its `processInvite` job started again: only that job creates
 * accounts, so this one needs no permission to. One failure does not stop the others; any retryable
 * failure fails the run, so the function's error alarm fires and the next run tries again.
 */
const INVITE_GRACE_MS = 5 * 60 * 1000;

export async function syncPending(options: { inviteGraceMs?: number } = {}) {
  const cutoff = new Date(Date.now() - (options.inviteGraceMs ?? INVITE_GRACE_MS)).toISOString();
  const work = await listPendingIdentityWork();
  let users = 0;
  let invites = 0;
  let gaveUp = 0;
  let failed = 0;
  for (const item of work) {
    try {
      if (item.kind === "user") {
        const outcome = await syncIdentity(item.orgId, item.userId);
        if (outcome === "synced") users++;
        else if (outcome === "failed") gaveUp++;
        else failed++;
      } else if (item.since <= cutoff) {
        await startJob("processInvite", { orgId: item.orgId, inviteId: item.inviteId });
        invites++;
      }
    } catch (error) {
      failed++;
      logger.warn("identity sync: an item failed", { kind: item.kind, orgId: item.orgId, error });
    }
  }
  logger.info("identity sync", { pending: work.length, users, invites, gaveUp, failed });
  if (failed > 0) throw new ServiceUnavailableError("IDENTITY_SYNC_INCOMPLETE");
  return { pending: work.length, users, invites, gaveUp };
}

export const run = () => syncPending();

export const handler = createJob("identitySync", run);
