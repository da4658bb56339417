import type * as z from "zod";
import {
  appendWithItems,
  auditEntry,
  CheckpointNotFoundError,
  checkpointExists,
  DisclosurePosition,
  EntryPosition,
  type FoundEntry,
  queryDisclosures,
  queryEntries,
  type RequestMeta,
  type VerifyFrom,
} from "../../shared/audit";
import { type Principal, requireOrgAction } from "../../shared/auth";
import { NotFoundError } from "../../shared/errors";
import { cursorScope, loadClient, openCursor, pageSize, sealCursor } from "../../shared/store";
import type { DisclosureQuerySchema, EntryQuerySchema } from "./schema";
import { currentVerification, startVerificationJob, verificationStatus } from "./verification";

/**
 * The audit trail, read by people. Reading it is itself audited (fail closed: the answer is returned
 * only once that entry is committed). These entries name no client in `clientId`, so looking at a
 * client's accounting does not show up in that client's own accounting of PHI disclosures. Cursors are
 * sealed for the caller and the exact query (filters included) they page through.
 */
type CursorPage = { items: FoundEntry[]; nextCursor?: string };

export async function listEntries(
  principal: Principal,
  request: RequestMeta,
  query: z.infer<typeof EntryQuerySchema>,
): Promise<CursorPage> {
  requireOrgAction(principal, "audit:read");
  const { cursor, limit, ...filters } = query;
  const scope = cursorScope(principal, "listAuditEntries", filters);
  const after = await openCursor(scope, EntryPosition, cursor);
  const [page] = await Promise.all([
    queryEntries(principal.orgId, { ...filters, limit: pageSize(limit), ...(after && { after }) }),
    appendWithItems(
      auditEntry(principal, request, "audit.query", { type: "audit", id: query.actorId ?? "*" }, []),
    ),
  ]);
  const nextCursor = await sealCursor(scope, page.last);
  return { items: page.items, ...(nextCursor && { nextCursor }) };
}

export async function listDisclosures(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  query: z.infer<typeof DisclosureQuerySchema>,
): Promise<CursorPage> {
  requireOrgAction(principal, "audit:read");
  const { cursor, limit, ...range } = query;
  const scope = cursorScope(principal, "listDisclosures", { clientId, ...range });
  const after = await openCursor(scope, DisclosurePosition, cursor);
  const page = await queryDisclosures(principal.orgId, clientId, {
    ...range,
    limit: pageSize(limit),
    ...(after && { after }),
  });
  // The accounting outlives the client record; with neither, there is nothing to account for.
  if (page.items.length === 0 && !after && !(await loadClient(principal.orgId, clientId)))
    throw new NotFoundError();
  await appendWithItems(
    auditEntry(principal, request, "audit.disclosures", { type: "disclosures", id: clientId }, []),
  );
  const nextCursor = await sealCursor(scope, page.last);
  return { items: page.items, ...(nextCursor && { nextCursor }) };
}

/**
 * Starts a verification of the caller's org (a job: `functions/audit/verify.job.ts`). A start from a
 * checkpoint that does not exist is refused at once; the job record and the audit entry commit together.
 */
export async function startVerification(
  principal: Principal,
  request: RequestMeta,
  from: VerifyFrom = "latest",
) {
  requireOrgAction(principal, "audit:verify");
  if (typeof from === "number" && !(await checkpointExists(principal.orgId, from)))
    throw new CheckpointNotFoundError();
  return verificationStatus(await startVerificationJob(principal, request, from));
}

/** A verification job of the caller's org: its progress, and its report once done. Reading it is audited. */
export async function getVerification(principal: Principal, request: RequestMeta, jobId: string) {
  requireOrgAction(principal, "audit:verify");
  const job = await currentVerification(principal.orgId, jobId);
  if (!job) throw new NotFoundError();
  await appendWithItems(
    auditEntry(principal, request, "audit.verify-status", { type: "audit-verification", id: jobId }, []),
  );
  return verificationStatus(job);
}
