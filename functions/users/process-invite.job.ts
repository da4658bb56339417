import * as z from "zod";
import { ORG_ID } from "../../shared/auth";
import { createJob, type JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { processInvitation } from "./invitations";

/** Started by `POST /users` with the invitation to process (Lambda retries a failed run twice). */
const InviteEvent = z.strictObject({ orgId: z.string().regex(ORG_ID), inviteId: z.uuid() });

export async function run(event: unknown, job: JobInvocation) {
  const parsed = InviteEvent.safeParse(event);
  if (!parsed.success) {
    // Nothing to retry: no invitation can be named by it.
    logger.error("processInvite: malformed event", {
      fields: parsed.error.issues.map((i) => i.path.join(".")),
    });
    return { status: "invalid" as const };
  }
  return { status: await processInvitation(parsed.data.orgId, parsed.data.inviteId, job) };
}

export const handler = createJob("processInvite", run);
