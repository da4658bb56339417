import type { JWTPayload } from "jose";
import { ForbiddenError, UnauthorizedError } from "../errors";
import { isRole, type Role } from "./roles";

/** Who is calling: always derived from a verified token, never from the request body or path. */
export type Principal = {
  userId: string;
  orgId: string;
  role: Role;
};

export const ORG_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

export function principalFromClaims(claims: JWTPayload): Principal {
  const orgId = claims["custom:orgId"];
  if (typeof claims.sub !== "string" || typeof orgId !== "string" || !ORG_ID.test(orgId)) {
    throw new UnauthorizedError();
  }
  const groups = claims["cognito:groups"];
  const roles = (Array.isArray(groups) ? groups : []).filter(isRole);
  // Exactly one role: a user in two role groups is a provisioning mistake, not a union of rights.
  if (roles.length !== 1 || !roles[0]) throw new ForbiddenError();
  return { userId: claims.sub, orgId, role: roles[0] };
}
