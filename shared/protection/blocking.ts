import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { appendWithItems, auditEntry, type RequestMeta } from "../audit";
import { requireOrgAction } from "../auth/policy";
import type { Principal } from "../auth/principal";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ForbiddenError, NotFoundError } from "../errors";
import { logger } from "../log";
import { getUser } from "../people";
import { recordSignal, type Signal } from "../security";
import type { TenantSettings } from "../settings";
import { forgetBucketHints, principalKey } from "./buckets";

/**
 * Blocking: a principal that collects `blocking.rateLimitedRequests` refusals for the rate limit, or
 * `blocking.deniedRequests` authorization denials, within `blocking.windowSeconds` is blocked for
 * `blocking.blockSeconds`. The strikes and the block live on the principal's bucket item, so the limiter's
 * one write per request also checks the block. A window opens at a principal's first strike and counts
 * the strikes until it is `windowSeconds` old; the next strike opens a new one.
 */
export type Strike = "rate_limited" | "denied";

/** The security table's signal partitions of orgs (`signalPartition`), as an IAM string pattern. */
export const SIGNAL_PARTITION_PATTERN = "ORG#*#SIGNALS";

const COUNTERS = {
  rate_limited: { count: "limitedCount", since: "limitedSince", threshold: "rateLimitedRequests" },
  denied: { count: "deniedCount", since: "deniedSince", threshold: "deniedRequests" },
} as const;

const table = () => getConfig().TABLE_LIMITS;

/** Adds one strike to the principal's open window (or opens one) and returns the window's count. */
async function addStrike(key: string, strike: Strike, blocking: TenantSettings["blocking"], nowMs: number) {
  const { count, since } = COUNTERS[strike];
  const windowStart = nowMs - blocking.windowSeconds * 1000;
  const expiresAt = Math.ceil(nowMs / 1000) + blocking.windowSeconds + blocking.blockSeconds;
  const names = { "#count": count, "#since": since };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const out = await aws("dynamo").send(
        new UpdateCommand({
          TableName: table(),
          Key: { pk: key },
          UpdateExpression: "ADD #count :one SET expiresAt = :exp",
          ConditionExpression: "#since > :windowStart",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":one": 1, ":windowStart": windowStart, ":exp": expiresAt },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      return Number(out.Attributes?.[count]);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      await aws("dynamo").send(
        new UpdateCommand({
          TableName: table(),
          Key: { pk: key },
          UpdateExpression: "SET #count = :one, #since = :now, expiresAt = :exp",
          ConditionExpression: "attribute_not_exists(#since) OR #since <= :windowStart",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ":one": 1,
            ":now": nowMs,
            ":windowStart": windowStart,
            ":exp": expiresAt,
          },
        }),
      );
      return 1;
    } catch (error) {
      // Another request opened the window first: count in it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return 0;
}

/** Blocks the principal unless it already is; true when this call blocked it. */
async function block(key: string, blocking: TenantSettings["blocking"], nowMs: number): Promise<boolean> {
  const until = nowMs + blocking.blockSeconds * 1000;
  try {
    await aws("dynamo").send(
      new UpdateCommand({
        TableName: table(),
        Key: { pk: key },
        // A fresh start once the block ends: the strikes that caused it are gone with it.
        UpdateExpression:
          "SET blockedUntil = :until, expiresAt = :exp REMOVE limitedCount, limitedSince, deniedCount, deniedSince",
        ConditionExpression: "attribute_not_exists(blockedUntil) OR blockedUntil <= :now",
        ExpressionAttributeValues: { ":until": until, ":now": nowMs, ":exp": Math.ceil(until / 1000) + 60 },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export type Observation = Pick<Signal, "route" | "requestId" | "ip" | "reason">;

/**
 * A refusal the principal earned (429, or a 403 by role or policy): a strike, the security signal, and
 * the block once the strikes reach the threshold. Never fails the answer it is about: a lost strike or
 * signal is logged (the 429 or 403 stands).
 */
export async function recordStrike(
  principal: Principal,
  strike: Strike,
  settings: TenantSettings,
  observed: Observation,
): Promise<void> {
  const { orgId, userId } = principal;
  const at = new Date();
  const signal = recordSignal({ kind: strike, at: at.toISOString(), orgId, userId, ...observed }).catch(
    (error: unknown) => logger.warn("security signal not recorded", { kind: strike, error }),
  );
  try {
    const key = principalKey(orgId, userId);
    const count = await addStrike(key, strike, settings.blocking, at.getTime());
    if (
      count >= settings.blocking[COUNTERS[strike].threshold] &&
      (await block(key, settings.blocking, at.getTime()))
    ) {
      const reason = strike === "denied" ? "denials" : "rate_limit";
      logger.warn("principal blocked", { securityEvent: "PRINCIPAL_BLOCKED", orgId, userId, reason });
      await recordSignal({ kind: "blocked", at: at.toISOString(), orgId, userId, ...observed, reason }).catch(
        (error: unknown) => logger.warn("security signal not recorded", { kind: "blocked", error }),
      );
    }
  } catch (error) {
    logger.warn("strike not recorded", { strike, error });
  }
  await signal;
}

/**
 * Lifts a principal's block early (an admin of the same org, never their own): the block and the strike
 * counters are removed from the principal's limiter item in one transaction with the audit entry. The
 * bucket (`tat`) stays as it is: lifting a block is no way to refill anyone's quota. Lifting a block that is
 * not there is no error: the request is idempotent, and the admin's action is audited all the same (an item
 * that did not exist is left with its key and an expiry only, which TTL removes).
 */
export async function liftBlock(actor: Principal, meta: RequestMeta, userId: string): Promise<void> {
  requireOrgAction(actor, "user:manage");
  // An admin's own block (or strikes) is for another admin to lift.
  if (userId === actor.userId) throw new ForbiddenError();
  if (!(await getUser(actor.orgId, userId))) throw new NotFoundError();
  const lift = {
    Update: {
      TableName: table(),
      Key: { pk: principalKey(actor.orgId, userId) },
      UpdateExpression:
        "SET expiresAt = if_not_exists(expiresAt, :exp) REMOVE blockedUntil, limitedCount, limitedSince, deniedCount, deniedSince",
      ExpressionAttributeValues: { ":exp": Math.ceil(Date.now() / 1000) + 60 },
    },
  };
  await appendWithItems(auditEntry(actor, meta, "user.unblock", { type: "user", id: userId }, ["block"]), [
    { item: lift },
  ]);
  forgetBucketHints();
  logger.warn("principal unblocked", {
    securityEvent: "PRINCIPAL_UNBLOCKED",
    orgId: actor.orgId,
    userId,
    by: actor.userId,
  });
  await recordSignal({
    kind: "unblocked",
    at: new Date().toISOString(),
    orgId: actor.orgId,
    userId,
    requestId: meta.requestId,
    ip: meta.sourceIp,
  }).catch((error: unknown) => logger.warn("security signal not recorded", { kind: "unblocked", error }));
}
