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
