import type { Role } from "../auth/roles";
import { getConfig } from "../config";
import { queryAll, recordsWithPrefix } from "../store/query";
import { getRecord } from "../store/records";

/**
 * The org's people as the API sees them: one item per user in the directory table, mirroring Cognito.
 * It is read on every request, so a disabled user or a changed role takes effect on the next request,
 * not when the token expires. The directory table is its own (not the records table), so IAM grants
 * writing people only to the functions that manage them (`directory:write`), never to those that write
 * client records: a compromised record writer cannot make itself, or anyone, an admin.
 */
export const directoryTable = () => getConfig().TABLE_DIRECTORY;

export type UserStatus = "active" | "disabled";
export type UserRecord = {
  /** The Cognito `sub`. */
  userId: string;
  /**
   * What Cognito addresses the account by (its immutable username; a UUID equal to `sub` in a pool whose
   * sign-in attribute is email). Never the email: its owner could change that in Cognito. Absent from
   * entries written before it was stored: address those by `cognitoUsername` (the `userId`).
   */
  username?: string;
  orgId: string;
  email: string;
  role: Role;
  status: UserStatus;
  /** The coach_lead whose team this coach is on. */
  leadId?: string;
  /**
   * Which admins invited or changed this account, and when each last did (admin id → ISO time). The
   * two-person rule for changes that grant access to PHI reads it; it is kept to the recent ones.
   */
  touchedBy?: Record<string, string>;
  /**
   * Set, in the same transaction as a directory change, while Cognito has yet to follow it (role group,
   * enabled). The directory is what the API trusts; `syncIdentity` applies it to Cognito and clears this.
   * `failed` when Cognito never can (the account is gone from it): the operators were told.
   */
  identitySync?: "pending" | "failed";
  version: number;
  createdAt: string;
  updatedAt: string;
};

export const userKey = (orgId: string, userId: string) => ({ pk: `ORG#${orgId}`, sk: `USER#${userId}` });
export const teamPartition = (orgId: string, leadId: string) => `ORG#${orgId}#LEAD#${leadId}`;

/** The item to store for a user, with the index keys that list a lead's team. */
export function userItem(user: UserRecord): Record<string, unknown> {
  return {
    ...userKey(user.orgId, user.userId),
    ...user,
    ...(user.leadId && { gsi1pk: teamPartition(user.orgId, user.leadId), gsi1sk: `USER#${user.userId}` }),
  };
}

/** Admins a record remembers as having touched it (most recent first), so the map stays small. */
const TOUCHED_BY_KEPT = 20;

/** `touchedBy` after `adminId` invited or changed the account at `at`. */
export function touched(user: Pick<UserRecord, "touchedBy">, adminId: string, at: string) {
  const entries = Object.entries({ ...user.touchedBy, [adminId]: at })
    .sort(([, a], [, b]) => b.localeCompare(a))
    .slice(0, TOUCHED_BY_KEPT);
  return Object.fromEntries(entries);
}

/** Who may act as an admin of the org, and who may lead a team: an active account of that role. */
export const isActiveAdmin = (user: UserRecord | undefined) =>
  user?.role === "admin" && user.status === "active";
export const isActiveLead = (user: UserRecord | undefined) =>
  user?.role === "coach_lead" && user.status === "active";

/**
 * A transaction item that holds only while the account is still an active `role` of the org: an action
 * someone was allowed when it was requested commits only if they still are.
 */
export function stillActiveItem(orgId: string, userId: string, role: Role) {
  return {
    ConditionCheck: {
      TableName: directoryTable(),
      Key: userKey(orgId, userId),
      ConditionExpression: "#role = :role AND #status = :active",
      ExpressionAttributeNames: { "#role": "role", "#status": "status" },
      ExpressionAttributeValues: { ":role": role, ":active": "active" },
    },
  };
}

export function getUser(orgId: string, userId: string): Promise<UserRecord | undefined> {
  return getRecord<UserRecord>(userKey(orgId, userId), directoryTable());
}

export async function listUsers(orgId: string): Promise<UserRecord[]> {
  const users = await recordsWithPrefix<UserRecord & Record<string, unknown>>(
    orgId,
    "USER#",
    directoryTable(),
  );
  return users.map((user) => ({
    userId: user.userId,
    username: user.username,
    orgId: user.orgId,
    email: user.email,
    role: user.role,
    status: user.status,
    ...(user.leadId && { leadId: user.leadId }),
    ...(user.identitySync && { identitySync: user.identitySync }),
    version: user.version,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  }));
}

/**
 * The org registry: one item per org with users, which scheduled jobs (audit checkpoints) walk.
 * Seeding and every invitation write it (idempotently), so an org is registered once it has a directory.
 */
export const ORG_REGISTRY = "REGISTRY#ORGS";
export const orgRegistryItem = (orgId: string) => ({ pk: ORG_REGISTRY, sk: orgId, orgId });

export async function listOrgs(): Promise<string[]> {
  const items = await queryAll<{ orgId: string }>({
    TableName: directoryTable(),
    KeyConditionExpression: "pk = :p",
    ExpressionAttributeValues: { ":p": ORG_REGISTRY },
  });
  return items.map((item) => item.orgId);
}

/**
 * The ids of the coaches on a lead's team (one query on the team index). Only users count: the index
 * spans the table, and functions that may write held changes (`changes:hold`, not people) choose their
 * items' attributes, so an index entry is kept only if its item is a user of the org (its table key).
 */
export async function teamOf(orgId: string, leadId: string): Promise<Set<string>> {
  const members = await queryAll<{ pk: string; sk: string; userId: string }>({
    TableName: directoryTable(),
    IndexName: "gsi1",
    KeyConditionExpression: "gsi1pk = :team",
    ExpressionAttributeValues: { ":team": teamPartition(orgId, leadId) },
    ProjectionExpression: "pk, sk, userId",
  });
  const isUser = (member: { pk: string; sk: string; userId: string }) => {
    const key = userKey(orgId, member.userId);
    return member.pk === key.pk && member.sk === key.sk;
  };
  return new Set(members.filter(isUser).map((member) => member.userId));
}
