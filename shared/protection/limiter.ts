import type { Principal } from "../auth/principal";
import { type AppError, ServiceUnavailableError } from "../errors";
import { logger } from "../log";
import { type RateCost, type TenantSettings, tenantSettings } from "../settings";
import { type Observation, recordStrike } from "./blocking";
import {
  askAloneFirst,
  blockOf,
  type Consumed,
  consume,
  hintedTat,
  orgKey,
  principalKey,
  refund,
} from "./buckets";
import { RateLimitedError, TemporarilyBlockedError } from "./errors";
import { bucketState, type Policy, retryAfterSeconds } from "./gcra";
import type { PolicyName, PolicyState } from "./headers";

/** What the limiter decided for one request: the figures for the RateLimit headers, and a refusal if any. */
export type Admission = {
  settings: TenantSettings;
  policies: PolicyState[];
  refusal?: AppError;
};

const policiesOf = (principal: Principal, settings: TenantSettings): Record<PolicyName, Policy> => ({
  user: {
    quota: settings.rateLimits.perRole[principal.role],
    windowSeconds: settings.rateLimits.windowSeconds,
  },
  org: { quota: settings.rateLimits.perOrg, windowSeconds: settings.rateLimits.windowSeconds },
});

const blockWaitSeconds = (blockedUntilMs: number) =>
  Math.max(1, Math.ceil((blockedUntilMs - Date.now()) / 1000));

/** A bucket as the headers report it: as this request left it, or (untouched) as this instance last saw it. */
type Seen = Consumed | { outcome: "admitted"; tat: number | undefined };
function stateOf(name: PolicyName, policy: Policy, consumed: Seen, nowMicros: number): PolicyState {
  const base = { name, quota: policy.quota, windowSeconds: policy.windowSeconds };
  // Blocked: nothing is left until the block ends, whatever the bucket holds.
  if (consumed.outcome === "blocked")
    return { ...base, remaining: 0, resetSeconds: blockWaitSeconds(consumed.blockedUntilMs) };
  if (consumed.outcome === "limited")
    return { ...base, remaining: 0, resetSeconds: retryAfterSeconds(consumed.retryAfterMicros) };
  return { ...base, ...bucketState(consumed.tat, nowMicros, policy) };
}

/**
 * Checks and consumes the caller's and the org's buckets (one conditional write each, in parallel; the
 * caller's first, alone, when this instance last saw them refused or has not seen them) for a request of the route's cost class, with
 * the org's settings (`rateLimits`, `blocking`). An org that turned its rate limits off still has its
 * blocks checked (one conditional write on the caller's item) and no RateLimit fields. A refusal is returned, not thrown, so the pipeline can still put the
 * RateLimit headers on the 429 or 403 it answers; what one limit refused the other gives back.
 */
export async function admit(
  principal: Principal,
  costClass: RateCost,
  observed: Observation,
): Promise<Admission> {
  try {
    return await limit(principal, costClass, observed);
  } catch (error) {
    // A throttled or contended limiter write is a 503 (fail closed). Its Retry-After is spread over 1–3 s,
    // so the clients a throttled partition refused together do not all come back in the same second.
    if (!(error instanceof ServiceUnavailableError)) throw error;
    throw new ServiceUnavailableError(error.code, {
      cause: error.cause ?? error,
      retryAfterSeconds: 1 + Math.floor(Math.random() * 3),
    });
  }
}

async function limit(principal: Principal, costClass: RateCost, observed: Observation): Promise<Admission> {
  const settings = await tenantSettings(principal.orgId);
  const cost = settings.rateLimits.costs[costClass];
  const policies = policiesOf(principal, settings);
  const nowSeconds = Math.ceil(Date.now() / 1000);
  // TTL may remove a bucket once it is full again (a window at most), never a strike window or a block.
  const expiresAt =
    nowSeconds + Math.max(settings.rateLimits.windowSeconds, settings.blocking.windowSeconds) + 60;
  const user = { key: principalKey(principal.orgId, principal.userId), cost, policy: policies.user };
  if (!settings.rateLimits.enabled) {
    // The rate limit is off, blocking is not: a block is enforced, and denials still count toward one.
    const blockedUntilMs = await blockOf({ ...user, expiresAt });
    return {
      settings,
      policies: [],
      ...(blockedUntilMs !== undefined && {
        refusal: new TemporarilyBlockedError(blockWaitSeconds(blockedUntilMs)),
      }),
    };
  }
  const org = { key: orgKey(principal.orgId), cost, policy: policies.org };
  const consumeUser = () => consume({ ...user, checkBlock: true, expiresAt });
  const consumeOrg = () => consume({ ...org, checkBlock: false, expiresAt });
  let mine: Consumed;
  let ours: Consumed | undefined;
  if (askAloneFirst(user)) {
    // A principal this instance saw blocked or over their limit, or has not seen yet: their bucket alone
    // first, so hammering (or a first burst) never touches the org's, whose refunds would contend with
    // everyone else's requests and, until they land, refuse them.
    mine = await consumeUser();
    ours = mine.outcome === "admitted" ? await consumeOrg() : undefined;
  } else [mine, ours] = await Promise.all([consumeUser(), consumeOrg()]);
  const now = Date.now() * 1000;
  const admission: Admission = {
    settings,
    policies: [
      stateOf("user", policies.user, mine, now),
      stateOf("org", policies.org, ours ?? { outcome: "admitted", tat: hintedTat(org.key) }, now),
    ],
  };
  if (mine.outcome === "admitted" && ours?.outcome === "admitted") return admission;

  // What one limit refused, the other gives back.
  const giveBack = [
    ...(mine.outcome === "admitted" ? [refund(user)] : []),
    ...(ours?.outcome === "admitted" ? [refund(org)] : []),
  ];
  await Promise.all(giveBack).catch((error: unknown) => logger.warn("rate limit refund failed", { error }));

  if (mine.outcome === "blocked") {
    admission.refusal = new TemporarilyBlockedError(blockWaitSeconds(mine.blockedUntilMs));
    return admission;
  }
  const waits = [mine, ours].flatMap((c) => (c?.outcome === "limited" ? [c.retryAfterMicros] : []));
  admission.refusal = new RateLimitedError(retryAfterSeconds(Math.max(...waits)));
  // Only the principal's own refusals count toward their block: an org at its limit is no one's fault.
  if (mine.outcome === "limited")
    await recordStrike(principal, "rate_limited", settings, { ...observed, reason: "rate_limit" });
  return admission;
}

/** An authorization denial (a 403 by role or policy) of an authenticated principal: a strike toward a block. */
export async function recordDenial(
  principal: Principal,
  settings: TenantSettings,
  observed: Observation,
): Promise<void> {
  await recordStrike(principal, "denied", settings, observed);
}
