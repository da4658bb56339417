import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ServiceUnavailableError } from "../errors";
import { logger } from "../log";
import { MAX_BLOCK_SECONDS } from "../settings";
import { boundOf, capacityOf, costOf, type Form, intervalOf, type Policy } from "./gcra";

/**
 * The limiter's items in the limits table: one bucket per principal (which also holds the principal's
 * block and its strike counters, so one conditional write checks the block and consumes) and one per org.
 */
export const principalKey = (orgId: string, userId: string) => `ORG#${orgId}#USER#${userId}`;
export const orgKey = (orgId: string) => `ORG#${orgId}`;
/** Both kinds of limiter item, and a principal's alone, as IAM string patterns (`dynamodb:LeadingKeys`). */
export const LIMIT_PARTITION_PATTERN = "ORG#*";
export const PRINCIPAL_LIMIT_PARTITION_PATTERN = "ORG#*#USER#*";

/** A limiter item as stored: times in epoch microseconds (`tat`) and milliseconds (`blockedUntil`). */
export type BucketItem = {
  pk: string;
  tat?: number;
  blockedUntil?: number;
  limitedCount?: number;
  limitedSince?: number;
  deniedCount?: number;
  deniedSince?: number;
  expiresAt?: number;
};

export type Consumed =
  | { outcome: "admitted"; tat: number }
  | { outcome: "limited"; tat: number; retryAfterMicros: number }
  | { outcome: "blocked"; tat: number | undefined; blockedUntilMs: number };

/**
 * This instance's last sight of each bucket's tat: it picks which update form to try first, so a request
 * costs one write. It is a hint, never the authority: when another instance moved the bucket across `now`,
 * the write's condition fails, DynamoDB returns the item as it was (ALL_OLD), and that picks the form
 * (or says the request is over the limit). Bounded: an instance serves few principals, but never grows.
 */
const HINT_ENTRIES = 10_000;
type Hint = { tat?: number; blockedUntilMs?: number };
const hints = new Map<string, Hint>();
function remember(key: string, hint: Hint) {
  hints.delete(key);
  hints.set(key, hint);
  if (hints.size > HINT_ENTRIES) hints.delete(hints.keys().next().value as string);
}

/** The tat this instance last saw for a bucket (for headers where the bucket was not touched). */
export const hintedTat = (key: string) => hints.get(key)?.tat;

/**
 * Whether the limiter asks the principal's bucket alone first (and the org's only once it admitted): when
 * this instance last saw it blocked or too full for this request, so a principal that keeps hammering does
 * not touch the org's bucket; and when this instance has not seen it at all, so a burst of a principal new
 * to the instance (all its requests without a hint) cannot drain the org's bucket, even briefly, by
 * consuming it in parallel and refunding it afterwards. One round trip more, on a principal's first
 * request to an instance only.
 */
export function askAloneFirst(request: Pick<Consume, "key" | "cost" | "policy">): boolean {
  const hint = hints.get(request.key);
  if (!hint) return true;
  const now = nowMicros();
  if (hint.blockedUntilMs !== undefined && hint.blockedUntilMs > now / 1000) return true;
  return hint.tat !== undefined && hint.tat > boundOf(now, request.cost, request.policy);
}

/** Forgets the hints (tests that move buckets behind this instance's back). */
export const forgetBucketHints = () => hints.clear();

/** Enough for the bucket to change form between two tries a few times; more is contention, a 503. */
const MAX_ATTEMPTS = 4;

const nowMicros = () => Date.now() * 1000;

/** The item as DynamoDB returned it with a failed condition (lib-dynamodb leaves it marshalled). */
function oldItemOf(error: ConditionalCheckFailedException): BucketItem | undefined {
  const item = error.Item as Record<string, unknown> | undefined;
  if (!item) return undefined;
  const raw = Object.values(item).some((value) => value !== null && typeof value === "object");
  return (raw ? unmarshall(item as never) : item) as BucketItem;
}

/** Clock skew between instances the bounds below tolerate before calling an item corrupt. */
const SKEW_SLACK_MS = 1000;

/**
 * The limiter's own writes never put a bucket's tat beyond now + capacity, nor a block beyond now + the
 * longest block a setting allows; IAM cannot stop another holder of `limits:consume` writing more (a tat
 * or a block years ahead would lock a principal or a whole org out). Such an item is clamped to those
 * bounds, repaired in the table (conditional on what was read: a concurrent writer wins), and logged as
 * `LIMITER_STATE_INVALID` (the bucket's key: ids only). A shrunk capacity (a settings change) clamps the
 * same way, once per bucket.
 */
async function withinBounds(
  key: string,
  policy: Policy,
  old: BucketItem | undefined,
  now: number,
): Promise<BucketItem | undefined> {
  if (!old) return old;
  const tatCeiling = now + capacityOf(policy);
  const blockCeiling = Math.floor(now / 1000) + MAX_BLOCK_SECONDS * 1000;
  const tatInvalid = old.tat !== undefined && old.tat > tatCeiling + SKEW_SLACK_MS * 1000;
  const blockInvalid = old.blockedUntil !== undefined && old.blockedUntil > blockCeiling + SKEW_SLACK_MS;
  if (!tatInvalid && !blockInvalid) return old;
  const fields = [...(tatInvalid ? ["tat"] : []), ...(blockInvalid ? ["blockedUntil"] : [])];
  logger.warn("limiter item out of bounds: clamped", {
    securityEvent: "LIMITER_STATE_INVALID",
    bucket: key,
    fields,
  });
  const repaired: BucketItem = {
    ...old,
    ...(tatInvalid && { tat: tatCeiling }),
    ...(blockInvalid && { blockedUntil: blockCeiling }),
  };
  const values = Object.fromEntries(
    fields.flatMap((field) => [
      [`:${field}`, repaired[field as "tat" | "blockedUntil"]],
      [`:old_${field}`, old[field as "tat" | "blockedUntil"]],
    ]),
  );
  await aws("dynamo")
    .send(
      new UpdateCommand({
        TableName: getConfig().TABLE_LIMITS,
        Key: { pk: key },
        UpdateExpression: `SET ${fields.map((field) => `${field} = :${field}`).join(", ")}`,
        ConditionExpression: fields.map((field) => `${field} = :old_${field}`).join(" AND "),
        ExpressionAttributeValues: values,
      }),
    )
    .catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException))
        logger.warn("limiter item not repaired", { bucket: key, error });
    });
  return repaired;
}

type Consume = {
  key: string;
  cost: number;
  policy: Policy;
  /** Check the principal's block in the same write. */
  checkBlock: boolean;
  /** Epoch seconds after which TTL may remove the item (never before its state has lapsed). */
  expiresAt: number;
};

/** The update in one of GCRA's two forms; `floor` is the in-use form's guard (tat above it). */
function update(request: Consume, form: Form, now: number, floor: number) {
  const increment = costOf(request.cost, request.policy) * intervalOf(request.policy);
  const notBlocked = request.checkBlock
    ? " AND (attribute_not_exists(blockedUntil) OR blockedUntil <= :nowMs)"
    : "";
  const idle = form === "idle";
  return new UpdateCommand({
    TableName: getConfig().TABLE_LIMITS,
    Key: { pk: request.key },
    UpdateExpression: idle ? "SET tat = :tat, expiresAt = :exp" : "SET tat = tat + :inc, expiresAt = :exp",
    ConditionExpression: `${idle ? "(attribute_not_exists(tat) OR tat <= :now)" : "tat > :floor AND tat <= :bound"}${notBlocked}`,
    ExpressionAttributeValues: {
      ":exp": request.expiresAt,
      ...(idle
        ? { ":now": now, ":tat": now + increment }
        : { ":floor": floor, ":inc": increment, ":bound": boundOf(now, request.cost, request.policy) }),
      ...(request.checkBlock ? { ":nowMs": Math.floor(now / 1000) } : {}),
    },
    ReturnValues: "UPDATED_NEW",
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  });
}

/**
 * One conditional UpdateItem that both checks and consumes: admitted with the new tat, over the limit with
 * the wait, or blocked (principal buckets only). A second write only when the bucket was not in the form
 * this instance expected; a third at most when, after an in-use guess failed on an idle bucket, another
 * writer moves it ahead of `now` again. After losing a race (the bucket moved ahead of the `now` this
 * request sent), the retry guards on the tat it saw rather than on a new `now` (tat only grows): on a
 * bucket that many instances keep hovering around `now`, a guard on `now` could lose every time. It credits
 * the bucket at most the refill of that round trip, and only under contention.
 */
export async function consume(request: Consume): Promise<Consumed> {
  const hint = hints.get(request.key);
  let now = nowMicros();
  let form: Form = hint?.tat !== undefined && hint.tat > now ? "in-use" : "idle";
  let floor = now;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const out = await aws("dynamo").send(update(request, form, now, floor));
      const tat = Number(out.Attributes?.tat);
      remember(request.key, { tat });
      return { outcome: "admitted", tat };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const sent = now;
      now = nowMicros();
      const old = await withinBounds(request.key, request.policy, oldItemOf(error), now);
      if (
        request.checkBlock &&
        old?.blockedUntil !== undefined &&
        old.blockedUntil > Math.floor(now / 1000)
      ) {
        remember(request.key, {
          ...(old.tat !== undefined && { tat: old.tat }),
          blockedUntilMs: old.blockedUntil,
        });
        return { outcome: "blocked", tat: old.tat, blockedUntilMs: old.blockedUntil };
      }
      if (old?.tat === undefined) {
        form = "idle";
        continue;
      }
      remember(request.key, { tat: old.tat });
      const bound = boundOf(now, request.cost, request.policy);
      if (old.tat > bound) return { outcome: "limited", tat: old.tat, retryAfterMicros: old.tat - bound };
      if (old.tat > sent) {
        form = "in-use";
        floor = old.tat - 1;
      } else {
        form = "idle";
        floor = now;
      }
    }
  }
  throw new ServiceUnavailableError("RATE_LIMIT_CONTENDED");
}

/**
 * Gives back what an admitted request consumed when the other limit refused it (so a principal over their
 * own limit cannot spend the org's quota, nor an org at its limit the principal's). Best effort: a bucket
 * that went idle meanwhile loses nothing by it.
 */
export async function refund(request: Pick<Consume, "key" | "cost" | "policy">): Promise<void> {
  const increment = costOf(request.cost, request.policy) * intervalOf(request.policy);
  const out = await aws("dynamo").send(
    new UpdateCommand({
      TableName: getConfig().TABLE_LIMITS,
      Key: { pk: request.key },
      UpdateExpression: "SET tat = tat - :inc",
      ConditionExpression: "attribute_exists(tat)",
      ExpressionAttributeValues: { ":inc": increment },
      ReturnValues: "UPDATED_NEW",
    }),
  );
  // The bucket as the refund left it: a later answer that does not touch it reports it from here.
  remember(request.key, { tat: Number(out.Attributes?.tat) });
}

/**
 * The principal's block alone, for an org that turned its rate limits off (blocking stays on): one
 * conditional write that changes nothing but an absent expiry, and returns the block if there is one.
 */
export async function blockOf(
  request: Pick<Consume, "key" | "policy" | "expiresAt">,
): Promise<number | undefined> {
  const now = nowMicros();
  try {
    await aws("dynamo").send(
      new UpdateCommand({
        TableName: getConfig().TABLE_LIMITS,
        Key: { pk: request.key },
        UpdateExpression: "SET expiresAt = if_not_exists(expiresAt, :exp)",
        ConditionExpression: "attribute_not_exists(blockedUntil) OR blockedUntil <= :nowMs",
        ExpressionAttributeValues: { ":exp": request.expiresAt, ":nowMs": Math.floor(now / 1000) },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const old = await withinBounds(request.key, request.policy, oldItemOf(error), now);
    return old?.blockedUntil;
  }
}
