/**
 * Protection: the per-principal and per-org rate limits (GCRA buckets in the limits table, one
 * conditional write per bucket per request), the RateLimit header fields, and blocking (a principal that
 * keeps hitting the limit or collecting denials is refused for a while; an admin can lift it).
 */
export { liftBlock, type Observation, recordStrike, type Strike } from "./blocking";
export { type BucketItem, forgetBucketHints, orgKey, principalKey } from "./buckets";
export { RateLimitedError, TemporarilyBlockedError } from "./errors";
export { type PolicyState, RATE_LIMIT_HEADERS, rateLimitHeaders } from "./headers";
export { type Admission, admit, recordDenial } from "./limiter";
