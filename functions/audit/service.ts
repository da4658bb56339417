import type * as z from "zod";
import {
  appendWithItems,
  auditEntry,
  type Page,
  queryDisclosures,
  queryEntries,
  type RequestMeta,
  type VerifyFrom,
  verifyOrg,
} from "../../shared/audit";
import { type Principal, requireOrgAction } from "../../shared/auth";
import { NotFoundError } from "../../shared/errors";
import { loadClient } from "../../shared/store";
import type { DisclosureQuerySchema, EntryQuerySchema } from "./schema";

/**
 * The audit trail, read by people. Reading it is itself audited (fail closed: the answer is returned
 * only once that entry is committed). These entries name no client in `clientId`, so looking at a
 * client's accounting does not show up in that client's own accounting of PHI disclosures.
 */
const DEFAULT_PAGE = 50;

export async function listEntries(
  principal: Principal,
  request: RequestMeta,
  query: z.infer<typeof EntryQuerySchema>,
): Promise<Page> {
  requireOrgAction(principal, "audit:read");
  const [page] = await Promise.all([
    queryEntries(principal.orgId, { ...query, limit: query.limit ?? DEFAULT_PAGE }),
    appendWithItems(
      auditEntry(principal, request, "audit.query", { type: "audit", id: query.actorId ?? "*" }, []),
    ),
  ]);
  return page;
}

export async function listDisclosures(
  principal: Principal,
  request: RequestMeta,
  clientId: string,
  query: z.infer<typeof DisclosureQuerySchema>,
): Promise<Page> {
  requireOrgAction(principal, "audit:read");
  const page = await queryDisclosures(principal.orgId, clientId, {
    ...query,
    limit: query.limit ?? DEFAULT_PAGE,
  });
  // The accounting outlives the client record; with neither, there is nothing to account for.
  if (page.items.length === 0 && !query.cursor && !(await loadClient(principal.orgId, clientId)))
    throw new NotFoundError();
  await appendWithItems(
    auditEntry(principal, request, "audit.disclosures", { type: "disclosures", id: clientId }, []),
  );
  return page;
}

export async function verifyTrail(principal: Principal, request: RequestMeta, from: VerifyFrom = "latest") {
  requireOrgAction(principal, "audit:verify");
  const result = await verifyOrg(principal.orgId, from);
  await appendWithItems(
    auditEntry(principal, request, "audit.verify", { type: "audit", id: String(result.fromCheckpoint) }, []),
  );
  return result;
}
