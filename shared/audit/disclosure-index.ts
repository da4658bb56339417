import { getConfig } from "../config";
import { batchGet } from "../store/query";
import { disclosurePartition, entryPosition, subjectsOf } from "./chain";
import { parseEntry } from "./entry";
import type { StoredEntry } from "./verify";

export type IndexProblem = { chain: string; seq: number; clientId: string; problem: "missing-disclosure" };
type Pointer = { pk: string; sk: string; chain: string; seq: number };

/** Schema version from which every entry naming a client has a disclosure pointer. */
const INDEXED_FROM_VERSION = 2;

/**
 * The accounting of disclosures reads pointers kept beside the chains, in the records table, where
 * write functions can put items. This checks that every entry naming a client still has its pointer,
 * aimed back at that entry: a pointer removed or re-aimed to hide an access from a client's accounting
 * shows up here. Returns the first entry whose pointer is wrong, in chain order.
 */
export async function checkDisclosureIndex(
  orgId: string,
  chains: readonly (readonly StoredEntry[])[],
): Promise<IndexProblem | undefined> {
  const expected: (Pointer & { clientId: string })[] = [];
  for (const entries of chains) {
    for (const stored of entries) {
      const entry = parseEntry(stored.entry);
      if (!entry || entry.v < INDEXED_FROM_VERSION) continue;
      const sk = entryPosition(entry.time, stored.pk, Number(stored.seq));
      for (const clientId of subjectsOf(entry)) {
        const pk = disclosurePartition(orgId, clientId);
        expected.push({ pk, sk, chain: stored.pk, seq: Number(stored.seq), clientId });
      }
    }
  }
  const found = await batchGet<Pointer>(
    getConfig().TABLE_RECORDS,
    expected.map(({ pk, sk }) => ({ pk, sk })),
  );
  const byKey = new Map(found.map((pointer) => [`${pointer.pk}|${pointer.sk}`, pointer]));
  const wrong = expected.find((want) => {
    const pointer = byKey.get(`${want.pk}|${want.sk}`);
    return !pointer || pointer.chain !== want.chain || Number(pointer.seq) !== want.seq;
  });
  return (
    wrong && { chain: wrong.chain, seq: wrong.seq, clientId: wrong.clientId, problem: "missing-disclosure" }
  );
}
