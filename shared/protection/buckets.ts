import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ServiceUnavailableError } from "../errors";
import { boundOf, costOf, type Decision, decide, type Form, intervalOf, type Policy } from "./gcra";

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
const hints = new Map<string, number>();
function remember(key: string, tat: number) {
  hints.delete(key);
  hints.set(key, tat);
  if (hints.size > HINT_ENTRIES) hints.delete(hints.keys().next().value as string);
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

type Consume = {
  key: string;
  cost: number;
  policy: Policy;
  /** Check the principal's block in the same write. */
  checkBlock: boolean;
  /** Epoch seconds after which TTL may remove the item (never before its state has lapsed). */
  expiresAt: number;
};

function update(request: Consume, form: Form, now: number) {
  const increment = costOf(request.cost, request.policy) * intervalOf(request.policy);
  const notBlocked = request.checkBlock
    ? " AND (attribute_not_exists(blockedUntil) OR blockedUntil <= :nowMs)"
    : "";
  const idle = form === "idle";
  return new UpdateCommand({
    TableName: getConfig().TABLE_LIMITS,
    Key: { pk: request.key },
    UpdateExpression: idle ? "SET tat = :tat, expiresAt = :exp" : "SET tat = tat + :inc, expiresAt = :exp",
    ConditionExpression: `${idle ? "(attribute_not_exists(tat) OR tat <= :now)" : "tat > :now AND tat <= :bound"}${notBlocked}`,
    ExpressionAttributeValues: {
      ":now": now,
      ":exp": request.expiresAt,
      ...(idle
        ? { ":tat": now + increment }
        : { ":inc": increment, ":bound": boundOf(now, request.cost, request.policy) }),
      ...(request.checkBlock ? { ":nowMs": Math.floor(now / 1000) } : {}),
    },
    ReturnValues: "UPDATED_NEW",
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  });
}

/**
 * One conditional UpdateItem that both checks and consumes (two when another instance moved the bucket
 * across `now` since this one last saw it): admitted with the new tat, over the limit with the wait, or
 * blocked (principal buckets only).
 */
export async function consume(request: Consume): Promise<Consumed> {
  const hint = hints.get(request.key);
  let now = nowMicros();
  let form: Form = hint !== undefined && hint > now ? "in-use" : "idle";
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const out = await aws("dynamo").send(update(request, form, now));
      const tat = Number(out.Attributes?.tat);
      remember(request.key, tat);
      return { outcome: "admitted", tat };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = oldItemOf(error);
      if (old?.tat !== undefined) remember(request.key, old.tat);
      if (request.checkBlock && old?.blockedUntil !== undefined && old.blockedUntil > Math.floor(now / 1000))
        return { outcome: "blocked", tat: old.tat, blockedUntilMs: old.blockedUntil };
      now = nowMicros();
      const decision: Decision = decide(old?.tat, now, request.cost, request.policy);
      if (!decision.allowed)
        return { outcome: "limited", tat: old?.tat as number, retryAfterMicros: decision.retryAfterMicros };
      form = decision.form;
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
  await aws("dynamo").send(
    new UpdateCommand({
      TableName: getConfig().TABLE_LIMITS,
      Key: { pk: request.key },
      UpdateExpression: "SET tat = tat - :inc",
      ConditionExpression: "attribute_exists(tat)",
      ExpressionAttributeValues: { ":inc": increment },
    }),
  );
  hints.delete(request.key);
}
