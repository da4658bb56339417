import type { Relationship } from "../auth/policy";
import type { Principal } from "../auth/principal";
import type { AuditEntry } from "./entry";

/**
 * Who acted, for the audit trail: a signed-in user (their principal), or a service acting on its own
 * schedule or trigger, such as `job:auditCheckpoint`, always within one org.
 */
export type ServiceActor = { service: string; orgId: string };
export type Actor = Principal | ServiceActor;

/** Where an action came from: a request's id, source address and agent, or a job's invocation. */
export type RequestMeta = { requestId: string; sourceIp: string; userAgent: string };

/** The metadata of a job's invocation (no caller address: it runs inside AWS). */
export const jobMeta = (requestId: string, service: string): RequestMeta => ({
  requestId,
  sourceIp: "internal",
  userAgent: service,
});

/** What an access decision rested on (a `ClientAccess` fits); acting with no relationship by default. */
export type AccessBasis = { relationship: Relationship; breakGlass: boolean };
const NO_RELATIONSHIP: AccessBasis = { relationship: "none", breakGlass: false };

const actorOf = (actor: Actor): AuditEntry["actor"] =>
  "service" in actor
    ? { type: "service", id: actor.service, role: "service", orgId: actor.orgId }
    : { type: "user", id: actor.userId, role: actor.role, orgId: actor.orgId };

/** Builds an entry for an action of a user (from the request's principal) or of a service. */
export function auditEntry(
  actor: Actor,
  meta: RequestMeta,
  action: string,
  resource: AuditEntry["resource"],
  fields: readonly string[],
  access: AccessBasis = NO_RELATIONSHIP,
): AuditEntry {
  return {
    v: 2,
    time: new Date().toISOString(),
    actor: actorOf(actor),
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

/**
 * The same entry, vouching for a document (version 3): the chain's hash then covers the document's
 * SHA-256, so the document cannot be swapped without the chain showing it (a compliance report).
 */
export function withDigest(entry: AuditEntry, sha256: string): AuditEntry {
  return { ...entry, v: 3, digest: { sha256 } };
}
