import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { logger } from "../log";
import { queryAll } from "../store/query";
import { applyIdentity } from "./cognito";
import { directoryTable, getUser, type UserRecord, userKey } from "./directory";

/**
 * Cognito follows the directory, never the other way round (its queue is in the directory table too). A change to a person is committed to the
 * directory first (what the API trusts: a disabled user is refused on their next request whatever
 * Cognito says), marked `identitySync: "pending"`, and a work item is put in one queue partition in the
 * same transaction; then the directory's state is applied to Cognito and the mark and the item are
 * cleared together, conditional on the version that was applied. If Cognito fails, both stay, and the
 * scheduled `identitySync` job (or the next change to that user) applies the directory's state again.
 * Invitations waiting for their account are queued in the same partition.
 */
export const IDENTITY_QUEUE = "IDENTITY#PENDING";
const QUEUE = IDENTITY_QUEUE;
const userWork = (orgId: string, userId: string) => ({ pk: QUEUE, sk: `USER#${orgId}#${userId}` });
const inviteWork = (orgId: string, inviteId: string) => ({ pk: QUEUE, sk: `INVITE#${orgId}#${inviteId}` });

export type PendingIdentityWork =
  | { kind: "user"; orgId: string; userId: string; since: string }
  | { kind: "invite"; orgId: string; inviteId: string; since: string };

const table = directoryTable;

/** The queue item to put with a directory change that Cognito must follow (a transaction item). */
export function pendingSyncItem(user: Pick<UserRecord, "orgId" | "userId" | "updatedAt">) {
  const work = { kind: "user", orgId: user.orgId, userId: user.userId, since: user.updatedAt };
  return { item: { Put: { TableName: table(), Item: { ...userWork(user.orgId, user.userId), ...work } } } };
}

/** The queue item to put with a new invitation, so that it is processed even if its job never starts. */
export function pendingInviteItem(orgId: string, inviteId: string, since: string) {
  const work = { kind: "invite", orgId, inviteId, since };
  return { item: { Put: { TableName: table(), Item: { ...inviteWork(orgId, inviteId), ...work } } } };
}

/** The queue item to delete with an invitation's outcome. */
export function settledInviteItem(orgId: string, inviteId: string) {
  return { item: { Delete: { TableName: table(), Key: inviteWork(orgId, inviteId) } } };
}

export function listPendingIdentityWork(): Promise<PendingIdentityWork[]> {
  return queryAll<PendingIdentityWork>({
    TableName: table(),
    KeyConditionExpression: "pk = :q",
    ExpressionAttributeValues: { ":q": QUEUE },
    ProjectionExpression: "kind, orgId, userId, inviteId, since",
  });
}

const isConditionFailure = (error: unknown) =>
  error instanceof TransactionCanceledException &&
  (error.CancellationReasons ?? []).some((reason) => reason.Code === "ConditionalCheckFailed");

/**
 * Settles the user's sync state (cleared, or `failed`) and drops the queue item, if the user is still
 * at the version that was applied; false if someone changed it since.
 */
async function settleSync(user: UserRecord, outcome: "synced" | "failed"): Promise<boolean> {
  const update =
    outcome === "synced"
      ? { UpdateExpression: "REMOVE identitySync", ExpressionAttributeValues: { ":v": user.version } }
      : {
          UpdateExpression: "SET identitySync = :failed",
          ExpressionAttributeValues: { ":v": user.version, ":failed": "failed" },
        };
  try {
    await aws("dynamo").send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: table(),
              Key: userKey(user.orgId, user.userId),
              ConditionExpression: "#v = :v",
              ExpressionAttributeNames: { "#v": "version" },
              ...update,
            },
          },
          { Delete: { TableName: table(), Key: userWork(user.orgId, user.userId) } },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Marks the user pending again (for the scheduled job) when others kept changing it under us. */
async function markPending(orgId: string, userId: string): Promise<void> {
  const since = new Date().toISOString();
  await aws("dynamo").send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: table(),
            Key: userKey(orgId, userId),
            UpdateExpression: "SET identitySync = :pending",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":pending": "pending" },
          },
        },
        pendingSyncItem({ orgId, userId, updatedAt: since }).item,
      ],
    }),
  );
}

/** Rounds of read, apply, clear before leaving a user that keeps changing to the scheduled job. */
const SYNC_ROUNDS = 3;

/**
 * Cognito errors no retry can fix: the account is gone (deleted out of band) or Cognito rejects the
 * address itself. Retrying them would fail every run of the job for ever and hide real failures.
 */
const PERMANENT_FAILURES = new Set(["UserNotFoundException", "InvalidParameterException"]);
const isPermanent = (error: unknown) => error instanceof Error && PERMANENT_FAILURES.has(error.name);

/**
 * Gives up on a user Cognito can never follow: `identitySync: "failed"` (the directory, which the API
 * trusts, stands: a disabled user stays refused), the work item dropped, one `IDENTITY_SYNC_FAILED`
 * security event for the operators. False if someone changed the user since (then that state is applied).
 */
async function markFailed(user: UserRecord, error: Error): Promise<boolean> {
  if (!(await settleSync(user, "failed"))) return false;
  logger.warn("Cognito can never follow the directory for this user", {
    securityEvent: "IDENTITY_SYNC_FAILED",
    orgId: user.orgId,
    userId: user.userId,
    error,
  });
  return true;
}

/**
 * What Cognito addresses the user by. Directory entries written before usernames were stored have none:
 * in this pool (sign-in by email) the username is the `sub`, which is the entry's `userId`.
 */
export const cognitoUsername = (user: Pick<UserRecord, "username" | "userId">) =>
  user.username ?? user.userId;

export type SyncOutcome = "synced" | "pending" | "failed";

/**
 * Applies the user's directory state (role group, enabled) to Cognito and clears the pending mark.
 * Two writers can interleave (a PATCH and the job, or two PATCHes): each clears only the version it
 * applied, and one that finds the version moved reads and applies again, so the last state applied is
 * the directory's. A permanent Cognito failure marks the user `failed` and drops the work (see
 * `markFailed`); any other failure is thrown (the mark stays; the caller decides how to answer).
 */
export async function syncIdentity(orgId: string, userId: string): Promise<SyncOutcome> {
  for (let round = 0; round < SYNC_ROUNDS; round++) {
    const user = await getUser(orgId, userId);
    if (!user) {
      await aws("dynamo").send(new DeleteCommand({ TableName: table(), Key: userWork(orgId, userId) }));
      return "synced";
    }
    try {
      await applyIdentity(cognitoUsername(user), user);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      if (await markFailed(user, error as Error)) return "failed";
      continue;
    }
    if (await settleSync(user, "synced")) return "synced";
  }
  await markPending(orgId, userId);
  return "pending";
}

/**
 * `syncIdentity` for a request or job that has just committed a directory change: whatever Cognito
 * does, the change stands. `pending` (and an `IDENTITY_SYNC_PENDING` security event) when Cognito has
 * not followed yet, which the scheduled job will apply; `failed` when it never can (see `markFailed`).
 */
export async function followDirectory(orgId: string, userId: string): Promise<SyncOutcome> {
  try {
    const outcome = await syncIdentity(orgId, userId);
    if (outcome !== "pending") return outcome;
  } catch (error) {
    logger.warn("Cognito does not follow the directory yet", {
      securityEvent: "IDENTITY_SYNC_PENDING",
      orgId,
      userId,
      error,
    });
    return "pending";
  }
  logger.warn("Cognito sync left to the scheduled job", {
    securityEvent: "IDENTITY_SYNC_PENDING",
    orgId,
    userId,
  });
  return "pending";
}
