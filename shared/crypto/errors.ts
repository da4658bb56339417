import { AppError } from "../http/errors";

/** A ciphertext that does not open under its key and binding: tampered, moved, or shredded. */
export class DecryptionError extends AppError {
  constructor() {
    super("INTEGRITY_ERROR", 500, "Stored data failed its integrity check.");
  }
}

/** The client's data key is gone (crypto-shredded) or KMS refused it. */
export class DataKeyUnavailableError extends AppError {
  constructor() {
    super("DATA_KEY_UNAVAILABLE", 503, "The data key for this record is unavailable.");
  }
}
