/**
 * Typed errors with stable codes. Handlers and services throw these; `toHttpResponse` is the one place
 * they become HTTP. Messages are fixed text written here, never built from request data.
 */
export type FieldIssue = { field: string; rule: string };

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: readonly FieldIssue[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(details: readonly FieldIssue[]) {
    super("VALIDATION_FAILED", 400, "The request is invalid.", details);
  }
}

export class MalformedJsonError extends AppError {
  constructor() {
    super("MALFORMED_JSON", 400, "The request body is not valid JSON.");
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super("UNSUPPORTED_MEDIA_TYPE", 415, "The request body must be application/json.");
  }
}

export class PayloadTooLargeError extends AppError {
  constructor() {
    super("PAYLOAD_TOO_LARGE", 413, "The request body is too large.");
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super("UNAUTHORIZED", 401, "A valid token is required.");
  }
}

export class ForbiddenError extends AppError {
  constructor() {
    super("FORBIDDEN", 403, "You are not allowed to do this.");
  }
}

export class AccountDisabledError extends AppError {
  constructor() {
    super("ACCOUNT_DISABLED", 401, "This account is disabled.");
  }
}

export class NotFoundError extends AppError {
  constructor() {
    super("NOT_FOUND", 404, "Not found.");
  }
}

export class CheckpointNotFoundError extends AppError {
  constructor() {
    super("CHECKPOINT_NOT_FOUND", 404, "No audit checkpoint with that number.");
  }
}

export class VersionConflictError extends AppError {
  constructor() {
    super("VERSION_CONFLICT", 409, "The record was changed since you read it; read it again and retry.");
  }
}

export class InvalidCursorError extends AppError {
  constructor() {
    super("INVALID_CURSOR", 400, "The pagination cursor is invalid.");
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code = "SERVICE_UNAVAILABLE") {
    super(code, 503, "The service is temporarily unavailable; retry later.");
  }
}

export class IntegrityError extends AppError {
  constructor() {
    super("INTEGRITY_ERROR", 500, "Stored data failed its integrity check.");
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

export class ConsentRequiredError extends AppError {
  constructor() {
    super("CONSENT_REQUIRED", 409, "The client has not given the consent this needs.");
  }
}
