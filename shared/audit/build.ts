import type { Principal } from "../auth/principal";
import type { RequestMeta } from "../http/handler";
import type { AuditEntry } from "./entry";

/** Builds an entry for a user's action from the request's principal and metadata. */
export function auditEntry(
  principal: Principal,
  meta: RequestMeta,
  action: string,
  resource: AuditEntry["resource"],
  fields: readonly string[],
): AuditEntry {
  return {
    v: 1,
    time: new Date().toISOString(),
    actor: { type: "user", id: principal.userId, role: principal.role, orgId: principal.orgId },
    action,
    resource,
    fields: [...fields].sort(),
    outcome: "success",
    requestId: meta.requestId,
    sourceIp: meta.sourceIp,
    userAgent: meta.userAgent,
    breakGlass: false,
  };
}
