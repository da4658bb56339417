import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { appendWithItems, auditEntry, jobMeta, type ServiceActor } from "../../shared/audit";
import { ORG_ID } from "../../shared/auth";
import { aws } from "../../shared/aws";
import { ConflictError } from "../../shared/errors";
import {
  createAccount,
  createdSince,
  deleteAccount,
  directoryTable,
  followDirectory,
  getUser,
  isOwnEarlierAttempt,
  listUsers,
  orgRegistryItem,
  pendingSyncItem,
  type UserRecord,
  userItem,
} from "../../shared/people";

/**
 * An org's first admin (`npm run bootstrap`): nobody can invite anyone into an org without an admin, so
 * an operator makes the first one. Refused when the org already has an admin. The order never leaves an
 * admin in Cognito that the directory does not know: the run records its attempt (the address and when
 * the first run for it started), the account is created without a group, then the directory entry (with
 * its audit entry, as the system actor `system:bootstrap`, and a once-per-org marker that makes two
 * concurrent runs safe) commits, then Cognito follows the directory (the admin group). A run that stops
 * after creating the account is simply run again: it adopts that account, but only when it is provably
 * the earlier run's (`isOwnEarlierAttempt` against the recorded attempt), never an account someone else
 * planted with the org. A run that loses the race deletes the account it made.
 */
export const BOOTSTRAP_SERVICE = "system:bootstrap";

const BootstrapInput = z.strictObject({
  orgId: z.string().regex(ORG_ID),
  email: z.email().max(254).toLowerCase(),
});

export type BootstrapResult =
  | { outcome: "created"; userId: string; synced: boolean }
  | { outcome: "refused"; reason: string };

const refused = (reason: string): BootstrapResult => ({ outcome: "refused", reason });

const attemptKey = (orgId: string) => ({ pk: `ORG#${orgId}`, sk: "BOOTSTRAP#ATTEMPT" });

/**
 * Records that a run for `email` is about to create its account, and returns when the first run for that
 * address started (a later run for the same address keeps it, so it can adopt what an earlier run made).
 * A run for another address starts afresh: what an earlier run made for a different address is never
 * adopted. Written before the account exists, so an account created before it cannot pass for this run's.
 */
async function recordAttempt(orgId: string, email: string, now: string): Promise<string> {
  const table = directoryTable();
  try {
    const out = await aws("dynamo").send(
      new UpdateCommand({
        TableName: table,
        Key: attemptKey(orgId),
        UpdateExpression: "SET email = :email, startedAt = if_not_exists(startedAt, :now)",
        ConditionExpression: "attribute_not_exists(pk) OR email = :email",
        ExpressionAttributeValues: { ":email": email, ":now": now },
        ReturnValues: "ALL_NEW",
      }),
    );
    return String(out.Attributes?.startedAt ?? now);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    await aws("dynamo").send(
      new PutCommand({ TableName: table, Item: { ...attemptKey(orgId), email, startedAt: now } }),
    );
    return now;
  }
}

export async function bootstrapOrgAdmin(
  input: { orgId?: string | undefined; email?: string | undefined },
  options: { temporaryPassword?: string } = {},
): Promise<BootstrapResult> {
  const parsed = BootstrapInput.safeParse(input);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".")))];
    return refused(
      `invalid ${fields.join(" and ")} (org: lowercase letters, digits and dashes, 2-63 characters; email: an address)`,
    );
  }
  const { orgId, email } = parsed.data;
  const users = await listUsers(orgId);
  if (users.some((user) => user.role === "admin")) return refused(`org ${orgId} already has an admin`);

  const runStartedAt = new Date();
  const attemptStartedAt = await recordAttempt(orgId, email, runStartedAt.toISOString());
  const created = await createAccount(email, orgId, options);
  if (created.outcome === "refused") return refused("Cognito refused the address");
  const { account } = created;
  if (
    created.outcome === "exists" &&
    (users.some((u) => u.userId === account.sub) || !isOwnEarlierAttempt(account, orgId, attemptStartedAt))
  )
    return refused("the address already has an account");

  const now = new Date().toISOString();
  const user: UserRecord = {
    userId: account.sub,
    username: account.username,
    orgId,
    email,
    role: "admin",
    status: "active",
    identitySync: "pending",
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const actor: ServiceActor = { service: BOOTSTRAP_SERVICE, orgId };
  const table = directoryTable();
  const alreadyBootstrapped = () =>
    new ConflictError("ORG_BOOTSTRAPPED", "The org already has a first admin.");
  try {
    await appendWithItems(
      auditEntry(
        actor,
        jobMeta(randomUUID(), BOOTSTRAP_SERVICE),
        "user.create",
        { type: "user", id: user.userId },
        ["email", "role", "status"],
      ),
      [
        {
          item: {
            Put: {
              TableName: table,
              Item: { pk: `ORG#${orgId}`, sk: "BOOTSTRAP", userId: user.userId, createdAt: now },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          onConditionFailed: alreadyBootstrapped,
        },
        {
          item: {
            Put: { TableName: table, Item: userItem(user), ConditionExpression: "attribute_not_exists(pk)" },
          },
          onConditionFailed: alreadyBootstrapped,
        },
        { item: { Put: { TableName: table, Item: orgRegistryItem(orgId) } } },
        pendingSyncItem(user),
        { item: { Delete: { TableName: table, Key: attemptKey(orgId) } } },
      ],
    );
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // A concurrent run won. The account this run made must not stay behind, including one it found as
    // `exists` because the SDK re-sent its own lost creation (created after this run started); but not
    // the winner's own account (two runs for one address).
    const madeByThisRun = created.outcome === "created" || createdSince(account, runStartedAt);
    if (madeByThisRun && !(await getUser(orgId, account.sub))) await deleteAccount(account.username);
    return refused(`org ${orgId} already has an admin`);
  }
  const synced = (await followDirectory(orgId, user.userId)) === "synced";
  return { outcome: "created", userId: user.userId, synced };
}
