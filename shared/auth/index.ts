export {
  type Action,
  CLIENT_META_FIELDS,
  CLIENT_PHI_FIELDS,
  type Decision,
  decide,
  POLICY,
  pick,
  RELATIONSHIPS,
  type Relationship,
  readsPhi,
  requireOrgAction,
} from "./policy";
export { ORG_ID, type Principal, principalFromClaims } from "./principal";
export { isRole, ROLES, type Role } from "./roles";
export { verifyAuthorization } from "./verifier";
