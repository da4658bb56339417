import type { Principal } from "./principal";
import type { Role } from "./roles";

/**
 * The one access policy, as data: role × relationship to the record × action → the fields visible or
 * writable. Anything not listed is denied. Services ask `decide`; no handler checks roles itself.
 */
export type Relationship = "creator" | "none";
export type Action = "client:create" | "client:list" | "client:read" | "client:update";

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
  "createdBy",
] as const;

type Field = (typeof CLIENT_PHI_FIELDS)[number] | (typeof CLIENT_META_FIELDS)[number] | "status";
const ALL_CLIENT_FIELDS: readonly Field[] = [...CLIENT_META_FIELDS, ...CLIENT_PHI_FIELDS];
const WRITABLE_CLIENT_FIELDS: readonly Field[] = [...CLIENT_PHI_FIELDS, "status"];
/** A list shows who the client is, not their record: minimum necessary for picking one. */
const CLIENT_SUMMARY_FIELDS: readonly Field[] = [...CLIENT_META_FIELDS, "name"];

export type Rule = { role: Role; relationship: Relationship; action: Action; fields: readonly Field[] };

export const POLICY: readonly Rule[] = [
  // Coaches and leads work with the clients they created (care teams arrive with issue 3).
  { role: "coach", relationship: "none", action: "client:create", fields: WRITABLE_CLIENT_FIELDS },
  { role: "coach", relationship: "creator", action: "client:list", fields: CLIENT_SUMMARY_FIELDS },
  { role: "coach", relationship: "creator", action: "client:read", fields: ALL_CLIENT_FIELDS },
  { role: "coach", relationship: "creator", action: "client:update", fields: WRITABLE_CLIENT_FIELDS },
  { role: "coach_lead", relationship: "none", action: "client:create", fields: WRITABLE_CLIENT_FIELDS },
  { role: "coach_lead", relationship: "creator", action: "client:list", fields: CLIENT_SUMMARY_FIELDS },
  { role: "coach_lead", relationship: "creator", action: "client:read", fields: ALL_CLIENT_FIELDS },
  { role: "coach_lead", relationship: "creator", action: "client:update", fields: WRITABLE_CLIENT_FIELDS },
  // Admins run the organization: they see that clients exist and their status, never their PHI.
  { role: "admin", relationship: "none", action: "client:list", fields: CLIENT_META_FIELDS },
  { role: "admin", relationship: "creator", action: "client:list", fields: CLIENT_META_FIELDS },
  { role: "admin", relationship: "none", action: "client:read", fields: CLIENT_META_FIELDS },
  { role: "admin", relationship: "creator", action: "client:read", fields: CLIENT_META_FIELDS },
];

export type Decision = { allow: true; fields: ReadonlySet<string> } | { allow: false };

export function decide(principal: Principal, action: Action, relationship: Relationship): Decision {
  const rule = POLICY.find(
    (r) => r.role === principal.role && r.action === action && r.relationship === relationship,
  );
  return rule ? { allow: true, fields: new Set(rule.fields) } : { allow: false };
}

/** Keeps only the fields a decision lets the caller see. */
export function pick<T extends Record<string, unknown>>(record: T, fields: ReadonlySet<string>): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => fields.has(key))) as Partial<T>;
}
