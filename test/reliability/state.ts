import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { parseEntry } from "../../shared/audit/entry";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { dataKeyItemKey } from "../../shared/crypto";
import { batchGet, queryAll, recordsWithPrefix } from "../../shared/store";

/**
 * Everything stored about one client, read straight from the tables and the bucket, and the
 * consistency rules a request must leave intact whatever failed along the way.
 */
export type ClientState = {
  records: Record<string, unknown>[];
  keyItem: boolean;
  objects: string[];
  /** Request ids of the committed audit entries that name the client. */
  auditedRequests: string[];
};

const SCOPED = ["CLIENT#", "CONSENT#", "SESSION#", "NOTE#", "NOTEV#", "BREAKGLASS#"];

export async function clientState(orgId: string, clientId: string): Promise<ClientState> {
  const config = getConfig();
  const [scoped, assignments, key, objects, pointers] = await Promise.all([
    Promise.all(
      SCOPED.map((prefix) => recordsWithPrefix<Record<string, unknown>>(orgId, `${prefix}${clientId}`)),
    ),
    recordsWithPrefix<Record<string, unknown>>(orgId, "ASSIGN#"),
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
  ]);
  const entries = await batchGet<{ entry: string }>(
    config.TABLE_AUDIT,
    pointers.map((pointer) => ({ pk: pointer.chain, seq: pointer.seq })),
  );
  return {
    records: [
      ...scoped.flat(),
      ...assignments.filter((item) => String(item.sk).endsWith(`#${clientId}`)),
    ].sort((a, b) => String(a.sk).localeCompare(String(b.sk))),
    keyItem: Boolean(key.Item),
    objects: (objects.Contents ?? []).map((object) => object.Key as string).sort(),
    auditedRequests: entries.flatMap((stored) => parseEntry(stored.entry)?.requestId ?? []).sort(),
  };
}

/** The stored data, without the audit trail: what a failed request must leave exactly as it was. */
export const dataOf = (state: ClientState) =>
  JSON.stringify({ records: state.records, keyItem: state.keyItem, objects: state.objects });

/** Rules every state must keep: broken ones, described (ids only). */
export function inconsistencies(state: ClientState): string[] {
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
