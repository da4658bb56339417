export {
  type AccessBasis,
  type Actor,
  auditEntry,
  jobMeta,
  type RequestMeta,
  type ServiceActor,
} from "./build";
export {
  type AppendedEntry,
  appendWithItems,
  ChainWriter,
  chainId,
  forgetChainPositions,
  type GuardedItem,
  type TransactItem,
} from "./chain";
export {
  type Checkpoint,
  type CheckpointProblem,
  checkpointHash,
  checkpointIfChanged,
  listCheckpoints,
  merkleRoot,
  type SignedCheckpoint,
  writeCheckpoint,
} from "./checkpoint";
export { type PhiFields, phiFields, phiFieldsIn, recordingAppends, unnamedPhi } from "./disclosure";
export { type AuditEntry, canonicalEntry, chainHash, GENESIS_HASH } from "./entry";
export { AuditIncompleteError, CheckpointNotFoundError } from "./errors";
export {
  DisclosurePosition,
  EntryPosition,
  type EntryQuery,
  type FoundEntry,
  type Page,
  queryDisclosures,
  queryEntries,
} from "./query";
export { readChain, readOrgChains } from "./read";
export { type ChainProblem, type ChainReport, type StoredEntry, verifyChain } from "./verify";
export { type OrgVerification, type VerifyFrom, verifyOrg } from "./verify-org";
