import { AppError } from "../errors";

/** The caller spent their (or their org's) quota: retry after `retryAfterSeconds`. */
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super("RATE_LIMITED", "rate_limited", "Too many requests; retry later.", { retryAfterSeconds });
  }
}

/**
 * The principal is blocked for a while (repeated rate-limit refusals or authorization denials): every
 * request is refused until the block ends or an admin lifts it. A 403 like any refusal, with Retry-After.
 */
export class TemporarilyBlockedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super("TEMPORARILY_BLOCKED", "forbidden", "You are temporarily blocked; retry later.", {
      retryAfterSeconds,
    });
  }
}
