import { AppError } from "../errors";

export class CheckpointNotFoundError extends AppError {
  constructor() {
    super("CHECKPOINT_NOT_FOUND", "not_found", "No audit checkpoint with that number.");
  }
}

/** A response would carry PHI that no committed audit entry names: withheld (a defect, never the caller's). */
export class AuditIncompleteError extends AppError {
  constructor() {
    super(
      "AUDIT_INCOMPLETE",
      "internal",
      "The response was withheld because its audit record is incomplete.",
    );
  }
}

/** A chain no longer holds what the live witness saw: it is not checkpointed (see shared/audit/witness.ts). */
export class WitnessContradictedError extends AppError {
  constructor() {
    super("AUDIT_WITNESS_CONTRADICTED", "integrity", "The audit trail no longer holds what its witness saw.");
  }
}

/**
 * Every chain of the org is unusable and none has room after its head: no entry can be appended (and so
 * no PHI served) until an operator repairs the chains (README, "Audit trail: when something is flagged").
 */
export class AuditChainsUnusableError extends AppError {
  constructor() {
    super("AUDIT_CHAINS_UNUSABLE", "integrity", "The audit trail cannot take new entries.");
  }
}
