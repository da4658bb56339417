import { ForbiddenError } from "../errors";
import type { Principal } from "./principal";
import type { Role } from "./roles";

/**
 * The one access policy, as data: role × relationship to the client × action → the fields visible
 * (or writable). Anything not listed is denied. Services ask `decide`; no handler checks roles itself.
 *
 * Relationships: `assigned` (the caller is one of the client's coaches), `lead_of_assigned` (the caller
 * leads a team one of those coaches is on), `break_glass` (an active, audited emergency grant),
 * `none`. Actions that create a client or manage the org need no relationship (`none`).
 */
export type Relationship = "assigned" | "lead_of_assigned" | "break_glass" | "none";
export const RELATIONSHIPS: readonly Relationship[] = ["assigned", "lead_of_assigned", "break_glass", "none"];

export const ACTIONS = [
  "client:create",
  "client:list",
  "client:read",
  "client:update",
  "client:assign",
  "consent:read",
  "consent:write",
  "session:create",
  "session:read",
  "transcript:upload",
  "transcript:read",
  "note:create",
  "note:read",
  "note:update",
  "breakglass:request",
  "user:manage",
  "user:read",
  "audit:read",
  "audit:verify",
  "change:list",
  "change:decide",
  "settings:read",
  "settings:write",
  "security:read",
  "breakglass:review",
  "report:read",
  "report:request",
] as const;
export type Action = (typeof ACTIONS)[number];

export const CLIENT_PHI_FIELDS = [
  "name",
  "email",
  "phone",
  "dateOfBirth",
  "address",
  "healthGoals",
  "conditions",
] as const;
export const CLIENT_META_FIELDS = [
  "clientId",
  "status",
  "version",
  "createdAt",
  "updatedAt",
  "coaches",
] as const;

const ALL_CLIENT = [...CLIENT_META_FIELDS, ...CLIENT_PHI_FIELDS];
const WRITABLE_CLIENT = [...CLIENT_PHI_FIELDS, "status"];
/** A list shows who the client is, not their record: the minimum necessary for picking one. */
const CLIENT_SUMMARY = [...CLIENT_META_FIELDS, "name"];
const SESSION = ["sessionId", "clientId", "coachId", "startsAt", "durationMinutes", "type", "transcript"];
const FULL_TRANSCRIPT = ["transcript:full", "transcript:redacted", "transcript:phiSummary"];
const REDACTED_TRANSCRIPT = ["transcript:redacted", "transcript:phiSummary"];
const NOTE = ["noteId", "clientId", "sessionId", "authorId", "text", "version", "createdAt", "updatedAt"];
const CONSENT = ["purpose", "status", "version", "grantedAt", "revokedAt", "recordedBy"];
/** What an audit entry holds: who, when, what (field names only), why; never a PHI value. */
export const AUDIT_FIELDS = [
  "v",
  "time",
  "actor",
  "action",
  "resource",
  "fields",
  "outcome",
  "requestId",
  "sourceIp",
  "userAgent",
  "breakGlass",
  "basis",
  "chain",
  "seq",
  "hash",
] as const;
/** A pending change names ids and the change itself, never PHI. */
const CHANGE_FIELDS = [
  "changeId",
  "kind",
  "status",
  "requesterId",
  "granteeIds",
  "change",
  "createdAt",
  "expiresAt",
  "decidedBy",
  "decidedAt",
];
const USER_FIELDS = [
  "userId",
  "email",
  "role",
  "status",
  "leadId",
  "identitySync",
  "version",
  "createdAt",
  "updatedAt",
];

export type Rule = {
  roles: readonly Role[];
  relationships: readonly Relationship[];
  actions: readonly Action[];
  fields: readonly string[];
};

const COACHES: readonly Role[] = ["coach", "coach_lead"];
/** Every relationship but break-glass: what an admin's org-wide rules apply to. */
const ORDINARY: readonly Relationship[] = RELATIONSHIPS.filter(
  (relationship) => relationship !== "break_glass",
);

export const POLICY: readonly Rule[] = [
  // Coaches (and leads, who coach too) work with the clients assigned to them.
  { roles: COACHES, relationships: ["none"], actions: ["client:create"], fields: WRITABLE_CLIENT },
  { roles: COACHES, relationships: ["assigned"], actions: ["client:list"], fields: CLIENT_SUMMARY },
  { roles: COACHES, relationships: ["assigned"], actions: ["client:read"], fields: ALL_CLIENT },
  { roles: COACHES, relationships: ["assigned"], actions: ["client:update"], fields: WRITABLE_CLIENT },
  {
    roles: COACHES,
    relationships: ["assigned"],
    actions: ["consent:read", "consent:write"],
    fields: CONSENT,
  },
  {
    roles: COACHES,
    relationships: ["assigned"],
    actions: ["session:create", "session:read"],
    fields: SESSION,
  },
  {
    roles: COACHES,
    relationships: ["assigned"],
    actions: ["transcript:upload", "transcript:read"],
    fields: FULL_TRANSCRIPT,
  },
  {
    roles: COACHES,
    relationships: ["assigned"],
    actions: ["note:create", "note:read", "note:update"],
    fields: NOTE,
  },
  // A lead supervises their team's clients: reads the record and notes, sees transcripts redacted, changes nothing.
  {
    roles: ["coach_lead"],
    relationships: ["lead_of_assigned"],
    actions: ["client:list"],
    fields: CLIENT_SUMMARY,
  },
  {
    roles: ["coach_lead"],
    relationships: ["lead_of_assigned"],
    actions: ["client:read"],
    fields: ALL_CLIENT,
  },
  { roles: ["coach_lead"], relationships: ["lead_of_assigned"], actions: ["consent:read"], fields: CONSENT },
  { roles: ["coach_lead"], relationships: ["lead_of_assigned"], actions: ["session:read"], fields: SESSION },
  {
    roles: ["coach_lead"],
    relationships: ["lead_of_assigned"],
    actions: ["transcript:read"],
    fields: REDACTED_TRANSCRIPT,
  },
  { roles: ["coach_lead"], relationships: ["lead_of_assigned"], actions: ["note:read"], fields: NOTE },
  // Admins run the organization: people, teams, assignments; of clients only the non-PHI fields.
  {
    roles: ["admin"],
    relationships: ORDINARY,
    actions: ["client:list", "client:read"],
    fields: CLIENT_META_FIELDS,
  },
  { roles: ["admin"], relationships: ORDINARY, actions: ["client:assign"], fields: ["coaches"] },
  { roles: ["admin"], relationships: ORDINARY, actions: ["consent:read"], fields: CONSENT },
  { roles: ["admin"], relationships: ["none"], actions: ["user:manage", "user:read"], fields: USER_FIELDS },
  { roles: ["coach_lead"], relationships: ["none"], actions: ["user:read"], fields: USER_FIELDS },
  // Compliance officers read the audit trail (org-wide, and each client's accounting of disclosures)
  // and nothing else: no client record, no PHI. Admins can have the trail verified.
  { roles: ["compliance_officer"], relationships: ["none"], actions: ["audit:read"], fields: AUDIT_FIELDS },
  { roles: ["admin"], relationships: ["none"], actions: ["audit:verify"], fields: [] },
  // Security findings (ids and counts, no PHI): compliance officers and admins of the org read them; a
  // compliance officer reviews each break-glass grant.
  {
    roles: ["compliance_officer", "admin"],
    relationships: ["none"],
    actions: ["security:read"],
    fields: [],
  },
  { roles: ["compliance_officer"], relationships: ["none"], actions: ["breakglass:review"], fields: [] },
  // A change that would let an account read PHI, made by an admin who recently invited or changed that
  // account, waits for a second person: another admin or a lead sees it and approves or rejects it.
  {
    roles: ["admin", "coach_lead"],
    relationships: ["none"],
    actions: ["change:list", "change:decide"],
    fields: CHANGE_FIELDS,
  },
  // The org's tenant settings (limits, blocking, business hours, detectors, retention, reports): admins
  // change them, compliance officers read them beside the trail they watch. No PHI either way.
  {
    roles: ["admin", "compliance_officer"],
    relationships: ["none"],
    actions: ["settings:read"],
    fields: [],
  },
  { roles: ["admin"], relationships: ["none"], actions: ["settings:write"], fields: [] },
  // Compliance reports (scores, check statuses, ids and counts; no PHI): compliance officers and admins read
  // them and ask for one on demand.
  {
    roles: ["compliance_officer", "admin"],
    relationships: ["none"],
    actions: ["report:read", "report:request"],
    fields: [],
  },
  // Emergency access: leads and admins may ask for it (with a reason, time-boxed, audited) …
  {
    roles: ["coach_lead", "admin"],
    relationships: ["none", "lead_of_assigned"],
    actions: ["breakglass:request"],
    fields: [],
  },
  // … and while it lasts they read what the assigned coach reads, and change nothing.
  {
    roles: ["coach_lead", "admin"],
    relationships: ["break_glass"],
    actions: ["client:read"],
    fields: ALL_CLIENT,
  },
  {
    roles: ["coach_lead", "admin"],
    relationships: ["break_glass"],
    actions: ["session:read"],
    fields: SESSION,
  },
  {
    roles: ["coach_lead", "admin"],
    relationships: ["break_glass"],
    actions: ["transcript:read"],
    fields: FULL_TRANSCRIPT,
  },
  {
    roles: ["coach_lead", "admin"],
    relationships: ["break_glass"],
    actions: ["note:read", "consent:read"],
    fields: [...NOTE, ...CONSENT],
  },
];

export type Decision = { allow: true; fields: ReadonlySet<string> } | { allow: false };

export function decide(
  principal: Pick<Principal, "role">,
  action: Action,
  relationship: Relationship,
): Decision {
  const rule = POLICY.find(
    (r) =>
      r.roles.includes(principal.role) &&
      r.actions.includes(action) &&
      r.relationships.includes(relationship),
  );
  return rule ? { allow: true, fields: new Set(rule.fields) } : { allow: false };
}

/**
 * Whether a role reads client PHI through one of these relationships (by default any ordinary one:
 * assigned, lead of assigned): the policy's own answer, so no second list of "PHI roles" can drift from it.
 */
export function readsPhi(role: Role, relationships: readonly Relationship[] = ORDINARY): boolean {
  return relationships.some((relationship) => {
    const decision = decide({ role }, "client:read", relationship);
    return decision.allow && CLIENT_PHI_FIELDS.some((field) => decision.fields.has(field));
  });
}

/** An org-level action (one that needs no relationship to a client): its fields, or 403. */
export function requireOrgAction(principal: Pick<Principal, "role">, action: Action): ReadonlySet<string> {
  const decision = decide(principal, action, "none");
  if (!decision.allow) throw new ForbiddenError();
  return decision.fields;
}

/** The best relationship for an action among those a caller holds (break-glass only when nothing else allows). */
export function decideAmong(
  principal: Pick<Principal, "role">,
  action: Action,
  relationships: readonly Relationship[],
) {
  for (const relationship of relationships) {
    const decision = decide(principal, action, relationship);
    if (decision.allow) return { ...decision, relationship };
  }
  return { allow: false as const, relationship: relationships[0] ?? ("none" as Relationship) };
}

/** Keeps only the fields a decision lets the caller see. */
export function pick<T extends Record<string, unknown>>(record: T, fields: ReadonlySet<string>): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => fields.has(key))) as Partial<T>;
}
