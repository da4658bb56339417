/** Roles are Cognito groups of the same name; a user belongs to exactly one. */
export const ROLES = ["coach", "coach_lead", "admin", "compliance_officer"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
