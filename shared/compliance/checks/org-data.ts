import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  UserNotFoundException,
} from "@aws-sdk/client-cognito-identity-provider";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { actorIndexKey, orgIndexKey } from "../../audit/chain";
import { parseEntry, type RecordedEntry } from "../../audit/entry";
import { isRole, type Role } from "../../auth/roles";
import { aws } from "../../aws";
import { getConfig } from "../../config";
import { listUsers, type UserRecord } from "../../people";
import { batchGet, type ClientRecord, clientKey, queryAll } from "../../store";
import { type CheckContext, type EvidenceValue, evidenceText } from "../check";

/**
 * What the identity and data checks read about one org, each load made once per report (`context.memo`)
 * and shared by the checks that need it. Every load is bounded by the org's people (hundreds) or by the
 * period's activity, never by the org's history: what history a check still needs it reaches through a
 * cursor it carries from report to report (`Outcome.carry`).
 */

/** Evidence lists at most this many ids (the report's schema bounds a list to 100); the count says how many in all. */
export const EVIDENCE_IDS = 100;
export const someIds = (ids: Iterable<string>): EvidenceValue =>
  [...ids].sort().slice(0, EVIDENCE_IDS).map(evidenceText);

/** At most `concurrency` calls in flight, results in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export const orgUsers = (context: CheckContext): Promise<UserRecord[]> =>
  context.memo("org-data:users", () => listUsers(context.orgId));

/** What Cognito says of one account (AdminGetUser and its role groups), or that it has no such account. */
export type CognitoAccount =
  | { found: false }
  | {
      found: true;
      enabled: boolean;
      /** Cognito's `UserStatus`: `FORCE_CHANGE_PASSWORD` until the first sign-in. */
      status: string;
      /** The enrolled second factors (`UserMFASettingList`, or legacy SMS `MFAOptions`). */
      mfa: string[];
      sub: string | undefined;
      orgId: string | undefined;
      roles: Role[];
    };

/** Cognito calls in flight for one report: its read quotas are per account, shared with sign-ins. */
const COGNITO_CONCURRENCY = 4;

async function loadAccount(username: string): Promise<CognitoAccount> {
  const address = { UserPoolId: getConfig().USER_POOL_ID, Username: username };
  try {
    const [user, groups] = await Promise.all([
      aws("cognito").send(new AdminGetUserCommand(address)),
      aws("cognito").send(new AdminListGroupsForUserCommand(address)),
    ]);
    const attribute = (name: string) => user.UserAttributes?.find((a) => a.Name === name)?.Value;
    const legacySms = (user.MFAOptions ?? []).some((option) => option.DeliveryMedium === "SMS");
    return {
      found: true,
      enabled: user.Enabled !== false,
      status: user.UserStatus ?? "UNKNOWN",
      mfa: [...new Set([...(user.UserMFASettingList ?? []), ...(legacySms ? ["SMS_MFA"] : [])])],
      sub: attribute("sub"),
      orgId: attribute("custom:orgId"),
      roles: (groups.Groups ?? []).map((group) => group.GroupName).filter(isRole),
    };
  } catch (error) {
    if (error instanceof UserNotFoundException || (error as Error).name === "UserNotFoundException")
      return { found: false };
    throw error;
  }
}

/** The Cognito accounts of these directory users, in their order (each read once per report). */
export function cognitoAccounts(context: CheckContext, users: readonly UserRecord[]) {
  return mapBounded(users, COGNITO_CONCURRENCY, (user) =>
    context.memo(`org-data:cognito:${user.userId}`, () => loadAccount(user.username ?? user.userId)),
  );
}

/** An audit entry of the period, as the checks read it (ids and times only). */
export type PeriodEntry = {
  time: string;
  action: string;
  actorId: string;
  resourceId: string;
  clientId: string | undefined;
  outcome: RecordedEntry["outcome"];
};

/** The audit actions the data checks follow through a period. */
export const FOLLOWED_ACTIONS = [
  "client.create",
  "client.update",
  "client.assign",
  "client.unassign",
  "client.reassign",
  "user.update",
  "session.create",
  "note.create",
  "transcript.upload",
  "consent.grant",
  "consent.revoke",
] as const;

/**
 * The period's entries of the followed actions, oldest first (the byOrg index, `at` in [from, to)): the
 * changes the incremental checks re-examine. Reads grow with the period's activity only.
 */
export function periodEntries(context: CheckContext): Promise<PeriodEntry[]> {
  return context.memo("org-data:period-entries", async () => {
    const names = FOLLOWED_ACTIONS.map((_, index) => `:a${index}`);
    const items = await queryAll<{ entry: unknown }>({
      TableName: getConfig().TABLE_AUDIT,
      IndexName: "byOrg",
      KeyConditionExpression: "org = :org AND #at BETWEEN :from AND :to",
      FilterExpression: `#action IN (${names.join(", ")})`,
      ProjectionExpression: "#entry",
      ExpressionAttributeNames: { "#at": "at", "#action": "action", "#entry": "entry" },
      ExpressionAttributeValues: {
        ":org": orgIndexKey(context.orgId),
        ":from": context.period.from,
        ":to": context.period.to,
        ...Object.fromEntries(FOLLOWED_ACTIONS.map((action, index) => [`:a${index}`, action])),
      },
    });
    const entries: PeriodEntry[] = [];
    for (const item of items) {
      const entry = parseEntry(item.entry);
      if (!entry) continue;
      entries.push({
        time: entry.time,
        action: entry.action,
        actorId: entry.actor.id,
        resourceId: entry.resource.id,
        clientId: entry.resource.clientId,
        outcome: entry.outcome,
      });
    }
    return entries.sort((a, b) => a.time.localeCompare(b.time));
  });
}

/** The time of a user's most recent audited action before `before`, from the byActor index (one item read). */
export async function lastActionOf(
  orgId: string,
  userId: string,
  before: string,
): Promise<string | undefined> {
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: getConfig().TABLE_AUDIT,
      IndexName: "byActor",
      KeyConditionExpression: "actor = :actor AND #at < :before",
      ExpressionAttributeNames: { "#at": "at" },
      ExpressionAttributeValues: { ":actor": actorIndexKey(orgId, userId), ":before": before },
      ProjectionExpression: "#at",
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const at = out.Items?.[0]?.at;
  return typeof at === "string" ? at.split("#")[0] : undefined;
}

/** Every client of the org (a first report's full pass; later reports follow the period's changes). */
export const allClients = (context: CheckContext): Promise<ClientRecord[]> =>
  context.memo("org-data:clients", () =>
    queryAll<ClientRecord>({
      TableName: getConfig().TABLE_RECORDS,
      KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":p": `ORG#${context.orgId}`, ":prefix": "CLIENT#" },
    }),
  );

/** The client items with these ids (those that exist). */
export const clientsById = (orgId: string, clientIds: Iterable<string>) =>
  batchGet<ClientRecord>(
    getConfig().TABLE_RECORDS,
    [...new Set(clientIds)].map((clientId) => clientKey(orgId, clientId)),
  );

/**
 * One page of the org's items under `prefix` after `after` (a sort key), for the rotating samples: each
 * report takes the next page and carries where it stopped, so over reports every item is visited.
 * `filter` (a condition on the item) is applied after `limit` items are read, so a page may be short.
 */
export async function rotatingPage<T>(
  orgId: string,
  prefix: string,
  after: string | undefined,
  limit: number,
  filter?: string,
): Promise<{ items: T[]; next: string | undefined }> {
  const partition = `ORG#${orgId}`;
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: getConfig().TABLE_RECORDS,
      KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":p": partition, ":prefix": prefix },
      ...(filter && { FilterExpression: filter }),
      ...(after && { ExclusiveStartKey: { pk: partition, sk: after } }),
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  const last = out.LastEvaluatedKey?.sk;
  return { items: (out.Items ?? []) as T[], next: typeof last === "string" ? last : undefined };
}
