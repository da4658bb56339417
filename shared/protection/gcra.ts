/**
 * The limiter's arithmetic: GCRA (the generic cell rate algorithm), a token bucket kept as one number.
 *
 * Why a token bucket, and why as GCRA: a fixed window admits twice the quota across a window boundary, and
 * a sliding window needs a log of requests or two counters and a weighted estimate. A token bucket admits at
 * most `quota` units at once and then `quota` per window, exactly, and GCRA stores it as one timestamp, the
 * "theoretical arrival time" (tat): the time at which the bucket would be full again. DynamoDB condition
 * expressions have no arithmetic and no max(), so the update comes in two forms, chosen by where tat stands:
 * - idle (tat <= now): the bucket is full; tat becomes now + cost·interval;
 * - in use (now < tat <= now + capacity − cost·interval): tat moves on by cost·interval;
 * - beyond that bound the request is over the limit, and may retry once tat falls back to the bound.
 *
 * Times are integer microseconds since the epoch (2^53 µs is 285 years: exact in a JavaScript number and
 * in DynamoDB). The interval is floored to a whole microsecond, and the capacity is quota·interval, so a
 * full bucket admits exactly `quota` units, and the refill is faster than configured by under a
 * microsecond per unit.
 */
export type Policy = { quota: number; windowSeconds: number };

export const MICROS_PER_SECOND = 1_000_000;

/** Microseconds one quota unit takes to refill. */
export const intervalOf = (policy: Policy) =>
  Math.floor((policy.windowSeconds * MICROS_PER_SECOND) / policy.quota);

/** The most a bucket holds, in microseconds of refill: `quota` units. */
export const capacityOf = (policy: Policy) => policy.quota * intervalOf(policy);

/** A request costing more than the whole quota costs the whole quota (it could never pass otherwise). */
export const costOf = (cost: number, policy: Policy) => Math.min(cost, policy.quota);

export type Form = "idle" | "in-use";

export type Decision =
  | { allowed: true; form: Form; tat: number }
  | { allowed: false; retryAfterMicros: number };

/** The latest tat a request of `cost` is admitted at: beyond it, the bucket has no room for it. */
export const boundOf = (now: number, cost: number, policy: Policy) =>
  now + capacityOf(policy) - costOf(cost, policy) * intervalOf(policy);

/** What a request of `cost` arriving at `now` does to a bucket whose tat is `tat` (undefined: never used). */
export function decide(tat: number | undefined, now: number, cost: number, policy: Policy): Decision {
  const increment = costOf(cost, policy) * intervalOf(policy);
  if (tat === undefined || tat <= now) return { allowed: true, form: "idle", tat: now + increment };
  const bound = boundOf(now, cost, policy);
  if (tat <= bound) return { allowed: true, form: "in-use", tat: tat + increment };
  return { allowed: false, retryAfterMicros: tat - bound };
}

/** Whole seconds, at least 1: what a Retry-After says for a wait of `micros`. */
export const retryAfterSeconds = (micros: number) => Math.max(1, Math.ceil(micros / MICROS_PER_SECOND));

/**
 * A bucket as the RateLimit header reports it: units left now, and seconds until it is full again (the
 * draft's "reset"; 0 for a full bucket).
 */
export function bucketState(tat: number | undefined, now: number, policy: Policy) {
  const used = Math.max(0, (tat ?? now) - now);
  const interval = intervalOf(policy);
  return {
    remaining: Math.max(0, Math.min(policy.quota, Math.floor((capacityOf(policy) - used) / interval))),
    resetSeconds: Math.ceil(used / MICROS_PER_SECOND),
  };
}
