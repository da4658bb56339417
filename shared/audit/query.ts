import * as z from "zod";
import { getConfig } from "../config";
import { batchGet, filledPage } from "../store/query";
import { actorIndexKey, disclosurePartition, orgIndexKey, parseChainId, subjectsOf } from "./chain";
import { chainHash, isChainSeq, parseEntry, type RecordedEntry } from "./entry";
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
  /**
   * Why the row is not to be trusted even if it hashes right (`hashValid` is then false): `outside-chains`,
   * an item in no chain of the org a writer appends to and the verifier reads (a key of another form, a
   * shard at or beyond `AUDIT_SHARDS`, a sequence no chain position has); for a client's disclosures,
   * `missing` (the pointer's entry is gone) or `misdirected` (the entry does not name the client, or the
   * pointer aims outside the org's chains: then nothing is read there).
   */
  problem?: FoundProblem;
};
export type FoundProblem = "outside-chains" | "missing" | "misdirected";
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

/** Whether a key is in one of the org's chains, at a chain position (where writers append and the verifier reads). */
function inChains(orgId: string, key: { pk: unknown; seq: unknown }): boolean {
  const place = typeof key.pk === "string" ? parseChainId(key.pk) : undefined;
  return place?.orgId === orgId && place.shard < getConfig().AUDIT_SHARDS && isChainSeq(Number(key.seq));
}

function found(orgId: string, stored: StoredEntry, problem?: FoundProblem): FoundEntry {
  const entry = parseEntry(stored.entry);
  const seq = Number(stored.seq);
  const outside = !inChains(orgId, stored);
  const hashValid =
    !outside &&
    !problem &&
    entry !== undefined &&
    chainHash(stored.prevHash, seq, stored.entry) === stored.hash;
  // As text whatever was stored: a hand-made item may hold a number where the hash belongs (or the key).
  return {
    chain: String(stored.pk),
    seq: isChainSeq(seq) ? seq : 0,
    hash: String(stored.hash),
    hashValid,
    ...(entry && { entry }),
    ...((problem ?? outside) && { problem: problem ?? "outside-chains" }),
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
    items: items.map((item) => found(orgId, item)),
    ...(last && { last: { at: last.at, pk: last.pk, seq: String(last.seq) } }),
  };
}

export const DisclosurePosition = z.strictObject({ at: z.string().min(1).max(200) });
export type DisclosurePosition = z.infer<typeof DisclosurePosition>;
type Pointer = { sk: string; chain: string; seq: number };

const pointerKey = (chain: unknown, seq: unknown) => `${String(chain)}|${String(seq)}`;

/**
 * The audit entries behind one client's pointers, one row per pointer, read from the chain items
 * themselves (each item once, however many pointers aim at it: BatchGet refuses duplicate keys). A
 * pointer whose entry is gone, whose entry does not name the client, or that aims outside the org's
 * chains (another org's, a key of another form) is shown flagged: each is
 * evidence of tampering with the accounting, never a reason to hide the row or fail the page.
 */
function entriesAt(orgId: string, clientId: string) {
  return async (pointers: readonly Pointer[]): Promise<FoundEntry[]> => {
    if (pointers.length === 0) return [];
    // A pointer is a record a function may have put: only keys an entry of this org's chains can have are
    // read (never another org's entry, never a key DynamoDB refuses to read).
    const aimed = new Set(pointers.filter((p) => inChains(orgId, { pk: p.chain, seq: p.seq })));
    const keys = new Map(
      [...aimed].map((p) => [pointerKey(p.chain, p.seq), { pk: p.chain, seq: Number(p.seq) }]),
    );
    const stored = await batchGet<StoredEntry>(getConfig().TABLE_AUDIT, [...keys.values()]);
    const byKey = new Map(stored.map((item) => [pointerKey(item.pk, item.seq), item]));
    return pointers.map((p): FoundEntry => {
      const entry = byKey.get(pointerKey(p.chain, p.seq));
      if (!entry) {
        const seq = Number(p.seq);
        const problem = aimed.has(p) ? "missing" : "misdirected";
        return {
          chain: String(p.chain),
          seq: isChainSeq(seq) ? seq : 0,
          hash: "",
          hashValid: false,
          problem,
        };
      }
      const parsed = parseEntry(entry.entry);
      const namesClient = parsed !== undefined && subjectsOf(parsed).includes(clientId);
      return found(orgId, entry, namesClient ? undefined : "misdirected");
    });
  };
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
  const { items, last } = await filledPage<Pointer, FoundEntry>(
    {
      TableName: getConfig().TABLE_RECORDS,
      KeyConditionExpression: "pk = :p AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":p": partition, ...bounds(query) },
      ScanIndexForward: false,
      ConsistentRead: true,
      ...(query.after && { ExclusiveStartKey: { pk: partition, sk: query.after.at } }),
    },
    query.limit,
    entriesAt(orgId, clientId),
  );
  return { items, ...(last && { last: { at: last.sk } }) };
}
