import { AppError } from "../errors";

/** A ciphertext that does not open under its key and binding: tampered, moved, or shredded. */
export class DecryptionError extends AppError {
  constructor() {
    super("INTEGRITY_ERROR", "integrity", "Stored data failed its integrity check.");
  }
}

/**
 * The client's data key is gone (crypto-shredded) or KMS refused to unwrap it. A throttled or
 * unreachable KMS is not this: that stays a retryable `ServiceUnavailableError`.
 */
export class DataKeyUnavailableError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    super("DATA_KEY_UNAVAILABLE", "unavailable", "The data key for this record is unavailable.", options);
  }
}
