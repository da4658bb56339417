/**
 * The error taxonomy, on the ground floor: no HTTP here. Every failure a caller can act on is an
 * `AppError` with a stable `code` (what tools script against), a `kind` (one of a few words; the
 * HTTP edge maps kinds to statuses in `shared/http/error-mapper.ts`, jobs decide on retry by it), a
 * fixed message written here (never built from request data) and, when it wraps something, its
 * `cause`. Module errors live beside their module (`shared/crypto/errors.ts` …) and extend these.
 */
export type FieldIssue = { field: string; rule: string };

export type ErrorKind =
  | "invalid"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_large"
  /** The caller sent too much too fast: retry after `retryAfterSeconds`. */
  | "rate_limited"
  /** Well-formed, but cannot be processed as sent (an Idempotency-Key reused with another request). */
  | "unprocessable"
  | "unsupported_media"
  | "unavailable"
  | "integrity"
  | "internal";

export type AppErrorOptions = {
  details?: readonly FieldIssue[];
  cause?: unknown;
  /** For `unavailable` and `rate_limited`: when a retry may succeed. */
  retryAfterSeconds?: number;
};

export class AppError extends Error {
  readonly details?: readonly FieldIssue[];
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.details) this.details = options.details;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class ValidationError extends AppError {
  constructor(details: readonly FieldIssue[]) {
    super("VALIDATION_FAILED", "invalid", "The request is invalid.", { details });
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super("UNAUTHORIZED", "unauthenticated", "A valid token is required.");
  }
}

export class ForbiddenError extends AppError {
  constructor() {
    super("FORBIDDEN", "forbidden", "You are not allowed to do this.");
  }
}

export class NotFoundError extends AppError {
  constructor() {
    super("NOT_FOUND", "not_found", "Not found.");
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(code, "conflict", message);
  }
}

/** A conditional write lost to a concurrent one, where the caller has nothing more specific to say. */
export class WriteConflictError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    super(
      "WRITE_CONFLICT",
      "conflict",
      "A concurrent change got there first; read again and retry.",
      options,
    );
  }
}

export class VersionConflictError extends ConflictError {
  constructor() {
    super("VERSION_CONFLICT", "The record was changed since you read it; read it again and retry.");
  }
}

/** A dependency (an AWS service, usually) failed in a way a retry may fix: throttling, timeouts, 5xx. */
export class ServiceUnavailableError extends AppError {
  constructor(code = "SERVICE_UNAVAILABLE", options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(code, "unavailable", "The service is temporarily unavailable; retry later.", {
      retryAfterSeconds: 1,
      ...options,
    });
  }
}

export class IntegrityError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    super("INTEGRITY_ERROR", "integrity", "Stored data failed its integrity check.", options);
  }
}

/** A deployment or programming mistake (a missing setting): never the caller's fault, never retried away. */
export class ConfigError extends AppError {
  constructor(message: string) {
    super("CONFIG_INVALID", "internal", message);
  }
}
