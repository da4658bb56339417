import type { Relationship } from "../auth/policy";
import type { Principal } from "../auth/principal";
import type { RequestMeta } from "../http/handler";
import type { AuditEntry } from "./entry";

/** What an access decision rested on (a `ClientAccess` fits); acting with no relationship by default. */
export type AccessBasis = { relationship: Relationship; breakGlass: boolean };
const NO_RELATIONSHIP: AccessBasis = { relationship: "none", breakGlass: false };

/** Builds an entry for a user's action from the request's principal and metadata. */
export function auditEntry(
  principal: Principal,
  meta: RequestMeta,
  action: string,
  resource: AuditEntry["resource"],
  fields: readonly string[],
  access: AccessBasis = NO_RELATIONSHIP,
): AuditEntry {
  return {
    v: 2,
    time: new Date().toISOString(),
    actor: { type: "user", id: principal.userId, role: principal.role, orgId: principal.orgId },
    action,
    resource,
    fields: [...fields].sort(),
    outcome: "success",
    requestId: meta.requestId,
    sourceIp: meta.sourceIp,
    userAgent: meta.userAgent,
    breakGlass: access.breakGlass,
    basis: [access.relationship],
  };
}
