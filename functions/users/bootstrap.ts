import { randomUUID } from "node:crypto";
import * as z from "zod";
import { appendWithItems, auditEntry, jobMeta, type ServiceActor } from "../../shared/audit";
import { ORG_ID } from "../../shared/auth";
import { getConfig } from "../../shared/config";
import { ConflictError } from "../../shared/errors";
import {
  createAccount,
  deleteAccount,
  followDirectory,
  listUsers,
  orgRegistryItem,
  pendingSyncItem,
  type UserRecord,
  userItem,
} from "../../shared/people";

/**
 * An org's first admin (`npm run bootstrap`): nobody can invite anyone into an org without an admin, so
 * an operator makes the first one. Refused when the org already has an admin. The order never leaves an
 * admin in Cognito that the directory does not know: the account is created without a group, then the
 * directory entry (with its audit entry, as the system actor `system:bootstrap`, and a once-per-org
 * marker that makes two concurrent runs safe) commits, then Cognito follows the directory (the admin
 * group). A run that stops after creating the account is simply run again: it adopts that account.
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

  const created = await createAccount(email, orgId, options);
  if (created.outcome === "refused") return refused("Cognito refused the address");
  const { account } = created;
  if (
    created.outcome === "exists" &&
    (account.orgId !== orgId || users.some((u) => u.userId === account.sub))
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
  const table = getConfig().TABLE_RECORDS;
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
      ],
    );
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // A concurrent run won: the account this run made (never one it adopted) must not stay behind.
    if (created.outcome === "created") await deleteAccount(account.username);
    return refused(`org ${orgId} already has an admin`);
  }
  return { outcome: "created", userId: user.userId, synced: await followDirectory(orgId, user.userId) };
}
