/**
 * People: the user directory the API trusts (`directory.ts`), the Cognito side (`cognito.ts`) and how
 * Cognito is made to follow the directory (`identity-sync.ts`).
 */

export {
  type Account,
  applyIdentity,
  type CreateAccountResult,
  createAccount,
  createdSince,
  deleteAccount,
  isOwnEarlierAttempt,
} from "./cognito";
export {
  directoryTable,
  getUser,
  isActiveAdmin,
  isActiveLead,
  listOrgs,
  listUsers,
  ORG_REGISTRY,
  orgRegistryItem,
  stillActiveItem,
  teamOf,
  teamPartition,
  touched,
  type UserRecord,
  type UserStatus,
  userItem,
  userKey,
} from "./directory";
export {
  cognitoUsername,
  followDirectory,
  IDENTITY_QUEUE,
  listPendingIdentityWork,
  type PendingIdentityWork,
  pendingInviteItem,
  pendingSyncItem,
  type SyncOutcome,
  settledInviteItem,
  syncIdentity,
} from "./identity-sync";
