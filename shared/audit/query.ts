import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import * as z from "zod";
import { aws } from "../aws";
import { getConfig } from "../config";
import { decodeCursor, encodeCursor } from "../store/cursor";
import { batchGet } from "../store/query";
import { actorIndexKey, disclosurePartition, orgIndexKey } from "./chain";
import { type AuditEntry, chainHash, parseEntry } from "./entry";
import type { StoredEntry } from "./verify";

/**
 * Reading the audit trail for people: an org's entries by time (optionally one user's, one action),
 * and one client's accounting of disclosures. Newest first, paginated with an opaque cursor. Each
 * entry comes back with its chain position and hash, and whether its hash still matches its content,
 * so a reader can hold any row against a verified chain.
 */
export type FoundEntry = {
  chain: string;
  seq: number;
  hash: string;
  /** Whether the stored hash still matches the entry (the full verifier also checks every link). */
  hashValid: boolean;
  /** Absent when the stored text is not an entry at all (tampering: the verifier names it). */
  entry?: AuditEntry;
};
export type Page = { items: FoundEntry[]; nextCursor?: string };
export type TimeRange = { from?: string; to?: string };
export type EntryQuery = TimeRange & { actorId?: string; action?: string; limit: number; cursor?: string };

// `at` = time#chain#seq: ISO times sort as text, and "~" sorts after every character an `at` can hold.
const bounds = (range: TimeRange) => ({ ":from": range.from ?? "0", ":to": range.to ?? "~" });
const Position = z.strictObject({
  at: z.string().min(1).max(200),
  pk: z.string().regex(/^ORG#[a-z0-9-]+#SHARD#\d+$/),
  seq: z.string().regex(/^\d{1,12}$/),
});

function found(stored: StoredEntry): FoundEntry {
  const entry = parseEntry(stored.entry);
  const hashValid = chainHash(stored.prevHash, Number(stored.seq), stored.entry) === stored.hash;
  return { chain: stored.pk, seq: Number(stored.seq), hash: stored.hash, hashValid, ...(entry && { entry }) };
}

/** Pages through a query with a filter until `limit` items match; the cursor is the last item returned. */
async function filledPage<T extends Record<string, unknown>>(input: QueryCommandInput, limit: number) {
  const items: T[] = [];
  let start = input.ExclusiveStartKey;
  let more = true;
  while (items.length < limit && more) {
    const out = await aws("dynamo").send(
      new QueryCommand({ ...input, ExclusiveStartKey: start, Limit: limit }),
    );
    items.push(...((out.Items ?? []) as T[]));
    start = out.LastEvaluatedKey;
    more = Boolean(start);
  }
  const page = items.slice(0, limit);
  return { page, last: items.length > limit || more ? page.at(-1) : undefined };
}

/** An org's entries, newest first: all of them, or one user's; optionally one action, within a time range. */
export async function queryEntries(orgId: string, query: EntryQuery): Promise<Page> {
  const byActor = query.actorId !== undefined;
  const partition = byActor ? "actor" : "org";
  const key = byActor ? actorIndexKey(orgId, query.actorId as string) : orgIndexKey(orgId);
  const position = decodeCursor(Position, query.cursor);
  const { page, last } = await filledPage<StoredEntry & { at: string }>(
    {
      TableName: getConfig().TABLE_AUDIT,
      IndexName: byActor ? "byActor" : "byOrg",
      KeyConditionExpression: "#p = :p AND #at BETWEEN :from AND :to",
      ...(query.action && { FilterExpression: "#action = :action" }),
      ExpressionAttributeNames: {
        "#p": partition,
        "#at": "at",
        ...(query.action && { "#action": "action" }),
      },
      ExpressionAttributeValues: {
        ":p": key,
        ...bounds(query),
        ...(query.action && { ":action": query.action }),
      },
      ScanIndexForward: false,
      ...(position && {
        ExclusiveStartKey: {
          [partition]: key,
          at: position.at,
          pk: position.pk,
          seq: Number(position.seq),
        },
      }),
    },
    query.limit,
  );
  return {
    items: page.map(found),
    ...(last && { nextCursor: encodeCursor({ at: last.at, pk: last.pk, seq: String(last.seq) }) }),
  };
}

const DisclosurePosition = z.strictObject({ at: z.string().min(1).max(200) });
type Pointer = { sk: string; chain: string; seq: number };

/** The audit entries behind pointers, in the pointers' order, read from the chain items themselves. */
async function entriesAt(pointers: readonly Pointer[]): Promise<StoredEntry[]> {
  const stored = await batchGet<StoredEntry>(
    getConfig().TABLE_AUDIT,
    pointers.map((p) => ({ pk: p.chain, seq: p.seq })),
  );
  const byKey = new Map(stored.map((item) => [`${item.pk}|${item.seq}`, item]));
  // A pointer whose entry is gone is itself evidence of tampering: the verifier names the gap.
  return pointers.flatMap((p) => byKey.get(`${p.chain}|${p.seq}`) ?? []);
}

/**
 * One client's accounting of disclosures (HIPAA §164.528): every audited access that named the client,
 * newest first — who, when, what (field names), on what basis, and whether under break-glass.
 */
export async function queryDisclosures(
  orgId: string,
  clientId: string,
  query: TimeRange & { limit: number; cursor?: string },
): Promise<Page> {
  const position = decodeCursor(DisclosurePosition, query.cursor);
  const partition = disclosurePartition(orgId, clientId);
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: getConfig().TABLE_RECORDS,
      KeyConditionExpression: "pk = :p AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":p": partition, ...bounds(query) },
      ScanIndexForward: false,
      Limit: query.limit,
      ...(position && { ExclusiveStartKey: { pk: partition, sk: position.at } }),
    }),
  );
  const pointers = (out.Items ?? []) as Pointer[];
  const entries = pointers.length > 0 ? await entriesAt(pointers) : [];
  const next = out.LastEvaluatedKey ? String(out.LastEvaluatedKey.sk) : undefined;
  return { items: entries.map(found), ...(next && { nextCursor: encodeCursor({ at: next }) }) };
}
