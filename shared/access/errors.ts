import { AppError } from "../errors";

export class ConsentRequiredError extends AppError {
  constructor() {
    super("CONSENT_REQUIRED", "conflict", "The client has not given the consent this needs.");
  }
}

export class AccountDisabledError extends AppError {
  constructor() {
    super("ACCOUNT_DISABLED", "unauthenticated", "This account is disabled.");
  }
}

/**
 * Someone in the circle of a held change's requester or of an account it grants access to (see
 * two-person.ts) tried to decide it.
 */
export class SecondPersonRequiredError extends AppError {
  constructor() {
    super(
      "SECOND_PERSON_REQUIRED",
      "forbidden",
      "A change must be decided by someone independent of its requester and of everyone it gives access to.",
    );
  }
}

export class ChangeNotPendingError extends AppError {
  constructor() {
    super("CHANGE_NOT_PENDING", "conflict", "The change was already decided.");
  }
}

export class ChangeExpiredError extends AppError {
  constructor() {
    super("CHANGE_EXPIRED", "conflict", "The change expired before it was decided; request it again.");
  }
}

/** What a held change would do no longer applies (an account or client changed since it was requested). */
export class ChangeStaleError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    super(
      "CHANGE_STALE",
      "conflict",
      "The change no longer applies as requested: reject it and request it again.",
      options,
    );
  }
}

/** A held reassignment must be applied in one transaction, which bounds how many clients it may move. */
export class ChangeTooLargeError extends AppError {
  constructor() {
    super(
      "CHANGE_TOO_LARGE",
      "conflict",
      "This reassignment moves too many clients to be held for approval in one change.",
    );
  }
}
