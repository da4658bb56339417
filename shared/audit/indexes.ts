import { getConfig } from "../config";
import { batchGet } from "../store/query";
import { AUDIT_ITEM_ATTRIBUTES, disclosurePartition, indexAttributes, subjectsOf } from "./chain";
import { parseEntry, type RecordedEntry } from "./entry";
import type { StoredEntry } from "./verify";

/**
 * What finds an entry without walking its chain: the index attributes on its own item (the byOrg and
 * byActor indexes) and the disclosure pointers in the records table. Neither is hashed, and the records
 * table is writable by functions, so both are checked against what each canonical entry implies: an
 * attribute altered, removed or added (say the `actor` key changed, so that "entries by user X" no longer
 * finds the entry), or a pointer removed or re-aimed to hide an access from a client's accounting.
 */
export type IndexProblem =
  | { chain: string; seq: number; problem: "index-attribute"; attribute: string }
  | { chain: string; seq: number; problem: "missing-disclosure"; clientId: string }
  | { chain: string; seq: number; problem: "pointers-unreadable" };
type Pointer = { pk: string; sk: string; chain: string; seq: number };

/** Schema version from which every item carries index attributes and every entry naming a client has a pointer. */
const INDEXED_FROM_VERSION = 2;
/** The attributes of every audit item that the chain check covers (keys, link, hash, hashed text). */
const CHAIN_ATTRIBUTES = new Set<string>(AUDIT_ITEM_ATTRIBUTES.slice(0, 5));

/** The index attributes an item must carry, exactly: version 1 items (before the indexes) carry only `time`. */
function expectedAttributes(entry: RecordedEntry, chain: string, seq: number): Record<string, unknown> {
  return entry.v < INDEXED_FROM_VERSION ? { time: entry.time } : indexAttributes(entry, chain, seq);
}

/**
 * The first attribute of a stored audit item that differs from what its entry implies, that is missing,
 * or that the item should not carry at all; undefined when the item is consistent. An entry claiming
 * another org than its chain's is named by its `org`. Text that is not an entry is left to the chain check
 * (a problem of its own there: `entry`).
 */
export function attributeProblem(
  orgId: string,
  item: Readonly<Record<string, unknown>>,
  entry = parseEntry(item.entry),
): string | undefined {
  if (!entry) return undefined;
  const expected = expectedAttributes(entry, String(item.pk), Number(item.seq));
  for (const [attribute, value] of Object.entries(expected)) {
    if (item[attribute] !== value) return attribute;
  }
  if (entry.v >= INDEXED_FROM_VERSION && entry.actor.orgId !== orgId) return "org";
  return Object.keys(item).find((attribute) => !CHAIN_ATTRIBUTES.has(attribute) && !(attribute in expected));
}

/**
 * The pointers at the keys the entries imply; undefined if DynamoDB refuses to read them for what the
 * keys hold (`ValidationException`). Every id in an entry is bounded (`shared/audit/entry.ts`), so no
 * entry should yield such a key: should one still, the page is reported, never a verification that throws
 * on it every day. A failure of the service itself still throws (the job tries again).
 */
async function readPointers(keys: readonly Pointer[]): Promise<Pointer[] | undefined> {
  try {
    return await batchGet<Pointer>(
      getConfig().TABLE_RECORDS,
      keys.map(({ pk, sk }) => ({ pk, sk })),
    );
  } catch (error) {
    if ((error as Error).name === "ValidationException") return undefined;
    throw error;
  }
}

/**
 * Checks the indexes of a run of entries in one pass (each entry parsed once): every item's index
 * attributes, then every pointer the entries imply, fetched in batches. Returns the first entry, in the
 * order given, whose attributes or pointers are wrong.
 */
export async function checkIndexes(
  orgId: string,
  entries: readonly StoredEntry[],
  parsed: readonly (RecordedEntry | undefined)[] = entries.map((stored) => parseEntry(stored.entry)),
): Promise<IndexProblem | undefined> {
  const expected: (Pointer & { clientId: string })[] = [];
  const problems: IndexProblem[] = [];
  for (const [index, stored] of entries.entries()) {
    const entry = parsed[index];
    if (!entry) continue;
    const at = { chain: stored.pk, seq: Number(stored.seq) };
    const attribute = attributeProblem(orgId, stored, entry);
    if (attribute) problems.push({ ...at, problem: "index-attribute", attribute });
    if (entry.v < INDEXED_FROM_VERSION) continue;
    const sk = indexAttributes(entry, stored.pk, at.seq).at;
    for (const clientId of subjectsOf(entry)) {
      expected.push({ pk: disclosurePartition(orgId, clientId), sk, ...at, clientId });
    }
  }
  const found = await readPointers(expected);
  const first = expected[0];
  if (!found && first) problems.push({ chain: first.chain, seq: first.seq, problem: "pointers-unreadable" });
  const byKey = new Map(found?.map((pointer) => [`${pointer.pk}|${pointer.sk}`, pointer]));
  for (const want of found ? expected : []) {
    const pointer = byKey.get(`${want.pk}|${want.sk}`);
    if (!pointer || pointer.chain !== want.chain || Number(pointer.seq) !== want.seq) {
      problems.push({
        chain: want.chain,
        seq: want.seq,
        problem: "missing-disclosure",
        clientId: want.clientId,
      });
      break;
    }
  }
  // Entries come in chain order, so the first problem is the one with the lowest position in `entries`.
  const position = new Map(entries.map((stored, index) => [`${stored.pk}|${stored.seq}`, index]));
  return problems.sort(
    (a, b) => (position.get(`${a.chain}|${a.seq}`) ?? 0) - (position.get(`${b.chain}|${b.seq}`) ?? 0),
  )[0];
}
