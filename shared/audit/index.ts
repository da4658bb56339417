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
  parseChainId,
  type TransactItem,
} from "./chain";
export {
  type Checkpoint,
  type CheckpointProblem,
  checkpointHash,
  checkpointIfChanged,
  merkleRoot,
  type SignedCheckpoint,
  writeCheckpoint,
} from "./checkpoint";
export { type PhiFields, phiFields, phiFieldsIn, recordingAppends, unnamedPhi } from "./disclosure";
export { type AuditEntry, canonicalEntry, chainHash, GENESIS_HASH } from "./entry";
export { AuditIncompleteError, CheckpointNotFoundError, WitnessContradictedError } from "./errors";
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
export {
  advanceVerification,
  beginVerification,
  checkpointExists,
  type OrgVerification,
  type VerificationProgress,
  type VerifyFrom,
  verificationReport,
  verifyOrg,
} from "./verifier";
export { type ChainProblem, type ChainReport, type StoredEntry, verifyChain } from "./verify";
export {
  AUDIT_CHAIN_BROKEN,
  AUDIT_TAMPER_DETECTED,
  checkInsert,
  recordHeads,
  type WitnessedHead,
  witnessedHeads,
} from "./witness";
