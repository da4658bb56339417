import * as z from "zod";
import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { type Principal, requireOrgAction } from "../../shared/auth";
import { listSecurityEvents, type StoredSecurityEvent } from "../../shared/security";
import { cursorScope, openCursor, pageSize, sealCursor } from "../../shared/store";
import { queryRange, type SecurityEventQuery } from "./schema";

const EventPosition = z.strictObject({ sk: z.string().startsWith("EVENT#").max(256) });

/**
 * The caller's org's findings, newest first. The range is resolved once, on the first page, and sealed in
 * the cursor's scope with the type: a later page continues exactly the list it came from. Reading
 * findings is audited (they carry no PHI, so the entry names no field and no client).
 */
export async function listFindings(
  principal: Principal,
  request: RequestMeta,
  query: SecurityEventQuery,
): Promise<{ items: StoredSecurityEvent[]; nextCursor?: string }> {
  requireOrgAction(principal, "security:read");
  const { cursor, limit, type } = query;
  const range = queryRange(query);
  // The cursor is bound to the caller's own words (not the resolved default range, which moves with the clock).
  const scope = cursorScope(principal, "listSecurityEvents", { from: query.from, to: query.to, type });
  const after = await openCursor(scope, EventPosition, cursor);
  const [page] = await Promise.all([
    listSecurityEvents(principal.orgId, {
      ...range,
      ...(type && { type }),
      limit: pageSize(limit),
      ...(after && { after: after.sk }),
    }),
    appendWithItems(
      auditEntry(
        principal,
        request,
        "security.events.list",
        { type: "security-events", id: type ?? "*" },
        [],
      ),
    ),
  ]);
  const nextCursor = await sealCursor(scope, page.last ? { sk: page.last } : undefined);
  return { items: page.items, ...(nextCursor && { nextCursor }) };
}
