export {
  type AccessBasis,
  type Actor,
  auditEntry,
  jobMeta,
  type RequestMeta,
  type ServiceActor,
  withDigest,
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
export {
  type AuditEntry,
  canonicalEntry,
  chainHash,
  GENESIS_HASH,
  isChainSeq,
  MAX_SEQ,
  parseEntry,
  type RecordedEntry,
} from "./entry";
export {
  AuditChainsUnusableError,
  AuditIncompleteError,
  CheckpointNotFoundError,
  WitnessContradictedError,
} from "./errors";
export { AUDIT_CHAIN_BROKEN, AUDIT_TAMPER_DETECTED } from "./events";
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
  VERIFICATION_PARTITION_PATTERN,
  type VerificationProgress,
  type VerifyFrom,
  verificationKey,
  verificationReport,
  verifyOrg,
} from "./verifier";
export { type ChainProblem, type ChainReport, type StoredEntry, verifyChain } from "./verify";
export { breaksChain, checkInsert, type InsertProblem } from "./witness";
export {
  type ChainBreak,
  recordBreaks,
  recordHeads,
  type WitnessedHead,
  type WitnessRecord,
  witnessedChains,
} from "./witnessed";
