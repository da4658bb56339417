import * as z from "zod";
import { getConfig } from "../config";
import { batchGet, filledPage } from "../store/query";
import { actorIndexKey, disclosurePartition, orgIndexKey } from "./chain";
import { chainHash, parseEntry, type RecordedEntry } from "./entry";
import type { StoredEntry } from "./verify";

/**
 * Reading the audit trail for people: an org's entries by time (optionally one user's, one action),
 * and one client's accounting of disclosures. Newest first, a full page at a time. Each entry comes
 * back with its chain position and hash, and whether its hash still matches its content, so a reader
 * can hold any row against a verified chain. Pages start after a position and end with the position of
 * the last entry returned; the caller turns positions into sealed cursors (`shared/store/cursor.ts`).
 */
export type FoundEntry = {
  chain: string;
  seq: number;
  hash: string;
  /**
   * Whether the stored hash still matches the text and that text is an entry (the full verifier also
   * checks every link).
   */
  hashValid: boolean;
  /** Absent when the stored text is not an entry at all (tampering: the witness and the verifier name it). */
  entry?: RecordedEntry;
};
/** A page of entries, and where the next one starts (absent on the last page). */
export type Page<P> = { items: FoundEntry[]; last?: P };
export type TimeRange = { from?: string; to?: string };

// `at` = time#chain#seq: ISO times sort as text, and "~" sorts after every character an `at` can hold.
const bounds = (range: TimeRange) => ({ ":from": range.from ?? "0", ":to": range.to ?? "~" });

export const EntryPosition = z.strictObject({
  at: z.string().min(1).max(200),
  pk: z.string().regex(/^ORG#[a-z0-9-]+#SHARD#\d+$/),
  seq: z.string().regex(/^\d{1,12}$/),
});
export type EntryPosition = z.infer<typeof EntryPosition>;
export type EntryQuery = TimeRange & {
  actorId?: string;
  action?: string;
  limit: number;
  after?: EntryPosition;
};

function found(stored: StoredEntry): FoundEntry {
  const entry = parseEntry(stored.entry);
  const hashValid =
    entry !== undefined && chainHash(stored.prevHash, Number(stored.seq), stored.entry) === stored.hash;
  // As text whatever was stored: a hand-made item may hold a number where the hash belongs.
  return {
    chain: stored.pk,
    seq: Number(stored.seq),
    hash: String(stored.hash),
    hashValid,
    ...(entry && { entry }),
  };
}

/** An org's entries, newest first: all of them, or one user's; optionally one action, within a time range. */
export async function queryEntries(orgId: string, query: EntryQuery): Promise<Page<EntryPosition>> {
  const byActor = query.actorId !== undefined;
  const partition = byActor ? "actor" : "org";
  const key = byActor ? actorIndexKey(orgId, query.actorId as string) : orgIndexKey(orgId);
  const { after } = query;
  const { items, last } = await filledPage<StoredEntry & { at: string }, StoredEntry & { at: string }>(
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
      ...(after && {
        ExclusiveStartKey: { [partition]: key, at: after.at, pk: after.pk, seq: Number(after.seq) },
      }),
    },
    query.limit,
    (batch) => batch,
  );
  return {
    items: items.map(found),
    ...(last && { last: { at: last.at, pk: last.pk, seq: String(last.seq) } }),
  };
}

export const DisclosurePosition = z.strictObject({ at: z.string().min(1).max(200) });
export type DisclosurePosition = z.infer<typeof DisclosurePosition>;
type Pointer = { sk: string; chain: string; seq: number };

/** The audit entries behind pointers, one per pointer, read from the chain items themselves. */
async function entriesAt(pointers: readonly Pointer[]): Promise<(StoredEntry | undefined)[]> {
  if (pointers.length === 0) return [];
  const stored = await batchGet<StoredEntry>(
    getConfig().TABLE_AUDIT,
    pointers.map((p) => ({ pk: p.chain, seq: p.seq })),
  );
  const byKey = new Map(stored.map((item) => [`${item.pk}|${item.seq}`, item]));
  // A pointer whose entry is gone is itself evidence of tampering: the verifier names the gap.
  return pointers.map((p) => byKey.get(`${p.chain}|${p.seq}`));
}

/**
 * One client's accounting of disclosures (HIPAA §164.528): every audited access that named the client,
 * newest first — who, when, what (field names), on what basis, and whether under break-glass.
 */
export async function queryDisclosures(
  orgId: string,
  clientId: string,
  query: TimeRange & { limit: number; after?: DisclosurePosition },
): Promise<Page<DisclosurePosition>> {
  const partition = disclosurePartition(orgId, clientId);
  const { items, last } = await filledPage<Pointer, StoredEntry>(
    {
      TableName: getConfig().TABLE_RECORDS,
      KeyConditionExpression: "pk = :p AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":p": partition, ...bounds(query) },
      ScanIndexForward: false,
      ConsistentRead: true,
      ...(query.after && { ExclusiveStartKey: { pk: partition, sk: query.after.at } }),
    },
    query.limit,
    entriesAt,
  );
  return { items: items.map(found), ...(last && { last: { at: last.sk } }) };
}
