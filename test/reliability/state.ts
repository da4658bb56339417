import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { changeKey } from "../../shared/access";
import { queryEntries } from "../../shared/audit";
import { parseEntry } from "../../shared/audit/entry";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { dataKeyItemKey } from "../../shared/crypto";
import { userKey } from "../../shared/people";
import { orgSettingsId } from "../../shared/settings";
import { batchGet, getRecord, queryAll, recordsWithPrefix } from "../../shared/store";

/**
 * What a test can see of the stored state around one fixture, read straight from the tables and the
 * bucket, and the rules every state must keep whatever failed along the way.
 */
export type Scope = {
  orgId: string;
  clientId: string;
  /** Accounts whose directory items the request may change. */
  userIds: readonly string[];
  /** Held changes the request may decide. */
  changeIds: readonly string[];
  /** An address the request may invite. */
  inviteEmail?: string;
};

export type State = {
  records: Record<string, unknown>[];
  keyItem: boolean;
  objects: string[];
  /** Request ids of the committed audit entries that name the client. */
  auditedRequests: string[];
};

const CLIENT_SCOPED = ["CLIENT#", "CONSENT#", "SESSION#", "NOTE#", "NOTEV#", "BREAKGLASS#"];
const bySortKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`);

export async function stateOf(scope: Scope): Promise<State> {
  const { orgId, clientId } = scope;
  const config = getConfig();
  const [scoped, assignments, people, changes, invites, key, objects, pointers, settings] = await Promise.all(
    [
      Promise.all(
        CLIENT_SCOPED.map((prefix) =>
          recordsWithPrefix<Record<string, unknown>>(orgId, `${prefix}${clientId}`),
        ),
      ),
      recordsWithPrefix<Record<string, unknown>>(orgId, "ASSIGN#"),
      Promise.all(
        scope.userIds.map((userId) =>
          getRecord<Record<string, unknown>>(userKey(orgId, userId), config.TABLE_DIRECTORY),
        ),
      ),
      Promise.all(
        scope.changeIds.map((changeId) =>
          getRecord<Record<string, unknown>>(changeKey(orgId, changeId), config.TABLE_DIRECTORY),
        ),
      ),
      scope.inviteEmail
        ? recordsWithPrefix<Record<string, unknown>>(orgId, "INVITE#", config.TABLE_DIRECTORY)
        : [],
      aws("dynamo").send(
        new GetCommand({ TableName: config.TABLE_KEYS, Key: dataKeyItemKey({ orgId, clientId }) }),
      ),
      aws("s3").send(
        new ListObjectsV2Command({ Bucket: config.BUCKET_TRANSCRIPTS, Prefix: `${orgId}/${clientId}/` }),
      ),
      queryAll<{ chain: string; seq: number }>({
        TableName: config.TABLE_RECORDS,
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": `ORG#${orgId}#DISCLOSED#${clientId}` },
      }),
      aws("dynamo").send(
        new GetCommand({
          TableName: config.TABLE_SETTINGS,
          Key: { id: orgSettingsId(orgId) },
          ConsistentRead: true,
        }),
      ),
    ],
  );
  const entries = await batchGet<{ entry: string }>(
    config.TABLE_AUDIT,
    pointers.map((pointer) => ({ pk: pointer.chain, seq: pointer.seq })),
  );
  const records: Record<string, unknown>[] = [
    ...scoped.flat(),
    ...assignments.filter((item) => String(item.sk).endsWith(`#${clientId}`)),
    ...people.filter((item): item is Record<string, unknown> => item !== undefined),
    ...changes.filter((item): item is Record<string, unknown> => item !== undefined),
    ...invites.filter((item) => item.email === scope.inviteEmail),
    // The org's settings document (PATCH /settings).
    ...(settings.Item ? [settings.Item] : []),
  ];
  return {
    records: records.sort(bySortKey),
    keyItem: Boolean(key.Item),
    objects: (objects.Contents ?? []).map((object) => object.Key as string).sort(),
    auditedRequests: entries.flatMap((stored) => parseEntry(stored.entry)?.requestId ?? []).sort(),
  };
}

/** The stored data, without the audit trail: what a failed request must leave exactly as it was. */
export const dataOf = (state: State) =>
  JSON.stringify({ records: state.records, keyItem: state.keyItem, objects: state.objects });

/** Whether the caller has a committed audit entry for the request (found by its id among their newest). */
export async function audited(orgId: string, actorId: string, requestId: string): Promise<boolean> {
  const page = await queryEntries(orgId, { actorId, limit: 100 });
  return page.items.some((found) => found.entry?.requestId === requestId);
}

/** Rules every state must keep: broken ones, described (ids only). */
export function inconsistencies(state: State): string[] {
  const problems: string[] = [];
  const client = state.records.find((item) => String(item.sk).startsWith("CLIENT#"));
  if (Boolean(client) !== state.keyItem) problems.push("client record and data key disagree");
  const coaches = new Set((client?.coaches as string[] | undefined) ?? []);
  const assigned = new Set(
    state.records.filter((item) => String(item.sk).startsWith("ASSIGN#")).map((item) => String(item.coachId)),
  );
  if ([...coaches].sort().join() !== [...assigned].sort().join())
    problems.push("coach list and assignment items disagree");
  const referenced = new Set(
    state.records.flatMap((item) => {
      const transcript = item.transcript as
        | { full?: { key: string }; redacted?: { key: string } }
        | undefined;
      return transcript ? [transcript.full?.key, transcript.redacted?.key].filter(Boolean) : [];
    }),
  );
  for (const key of state.objects) if (!referenced.has(key)) problems.push("an object no record points to");
  for (const key of referenced)
    if (!state.objects.includes(key as string)) problems.push("a record points to a missing object");
  return problems;
}

/**
 * Clients the caller created since `since`, each with what creating one writes together: its data key,
 * the creator's assignment and a committed `client.create` entry. A client missing any is a partial write.
 */
export async function partialClients(orgId: string, creatorId: string, since: string): Promise<string[]> {
  const created = (await recordsWithPrefix<Record<string, unknown>>(orgId, "CLIENT#")).filter(
    (item) => item.createdBy === creatorId && String(item.createdAt) >= since,
  );
  const problems: string[] = [];
  for (const client of created) {
    const clientId = String(client.clientId);
    const state = await clientState(orgId, clientId);
    problems.push(...inconsistencies(state).map((problem) => `new client: ${problem}`));
    if (!state.auditedRequests.length) problems.push("new client without its audit entry");
  }
  return problems;
}

/** The state around one client alone. */
export const clientState = (orgId: string, clientId: string) =>
  stateOf({ orgId, clientId, userIds: [], changeIds: [] });
