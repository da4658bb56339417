export { PASSWORD_POLICY } from "./password-policy";
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
export {
  FORCED_READ_COOLDOWN_MS,
  type Jwks,
  JwksSchema,
  storedTokenKeys,
  TOKEN_KEYS_ITEM,
  TOKEN_KEYS_PARTITION_PATTERN,
  type TokenKeySource,
  tokenKeyResolver,
} from "./token-keys";
export { forgetTokenKeys, tokenVerifier, verifyAuthorization } from "./verifier";
