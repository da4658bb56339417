import { getConfig } from "../config";
import { logger } from "../log";
import { batchGet } from "../store/query";
import { parseChainId } from "./chain";
import { chainHash, GENESIS_HASH, isChainSeq, parseEntry } from "./entry";
import { WitnessContradictedError } from "./errors";
import { AUDIT_TAMPER_DETECTED } from "./events";
import { attributeProblem } from "./indexes";
import type { WitnessedHead } from "./witnessed";

/**
 * The live witness's half of the audit trail's protection (the stream job is `functions/audit/
 * witness.stream.ts`). The audit table is append-only by our code and by its resource policy, but a put
 * can still overwrite an item, and the chains alone only show it at the next verification. The witness
 * reads the table's stream within seconds of every change: it checks each inserted entry on its own and
 * against its predecessor, raises a security event on any change, removal or broken link, and records
 * the head of every chain it has seen, only ever advancing, in a table the API functions cannot write
 * (`witnessed.ts`). An insert it flags is never recorded as a head; one that does not fit its chain marks
 * the chain broken there. The checkpoint job compares each chain with those heads before signing it, so
 * an entry the witness saw cannot later be rewritten or cut off the tail and then checkpointed as if
 * nothing happened, and it pins a broken chain below its break.
 */
type Head = Omit<WitnessedHead, "chain">;

/**
 * What is wrong with an inserted item. Three leave the chain itself as it was: `not-a-chain` (a key that
 * is no chain's), `uncovered` (a chain of a shard at or beyond `AUDIT_SHARDS`, which no writer appends to
 * and no checkpoint covers) and `sequence` (a number no chain position has: below 1, beyond `MAX_SEQ`, not
 * an integer); writers never read such an item as part of a chain, and the verifier names it. The
 * others break the chain where the item sits: `hash`, `not-an-entry` (hashes right, but its text is no
 * entry), `index-attribute`, `gap` (nothing before it), `link` (linked to something else).
 */
export type InsertProblem = {
  problem:
    | "not-a-chain"
    | "uncovered"
    | "sequence"
    | "hash"
    | "not-an-entry"
    | "index-attribute"
    | "gap"
    | "link";
  attribute?: string;
};
/** Whether a problem breaks the chain the item sits in (or leaves the item outside every chain). */
export const breaksChain = (problem: InsertProblem) =>
  !["not-a-chain", "uncovered", "sequence"].includes(problem.problem);

/** The stored hash of one entry (strongly consistent), or undefined if there is none. */
async function storedHash(chain: string, seq: number): Promise<string | undefined> {
  const [item] = await batchGet<{ hash: string }>(getConfig().TABLE_AUDIT, [{ pk: chain, seq }]);
  return item?.hash;
}

/**
 * Checks an inserted audit item: a chain's key, its own hash, that its text is an entry, its index
 * attributes, and its link to the entry before it, known from the heads this witness has seen or read
 * from the table.
 */
export async function checkInsert(
  item: Readonly<Record<string, unknown>>,
  seen: ReadonlyMap<string, Head>,
): Promise<InsertProblem | undefined> {
  const chain = String(item.pk);
  const seq = Number(item.seq);
  const place = parseChainId(chain);
  if (!place) return { problem: "not-a-chain" };
  if (place.shard >= getConfig().AUDIT_SHARDS) return { problem: "uncovered" };
  if (!isChainSeq(seq)) return { problem: "sequence" };
  const prevHash = String(item.prevHash);
  if (chainHash(prevHash, seq, String(item.entry)) !== item.hash) return { problem: "hash" };
  const entry = parseEntry(item.entry);
  if (!entry) return { problem: "not-an-entry" };
  const attribute = attributeProblem(place.orgId, item, entry);
  if (attribute) return { problem: "index-attribute", attribute };
  const known = seen.get(chain);
  const predecessor =
    seq === 1 ? GENESIS_HASH : known?.seq === seq - 1 ? known.hash : await storedHash(chain, seq - 1);
  if (predecessor === undefined) return { problem: "gap" };
  if (predecessor !== prevHash) return { problem: "link" };
  return undefined;
}

export type Contradiction = {
  chain: string;
  seq: number;
  problem: "truncated" | "removed" | "changed";
};

/**
 * Where the chains as they stand contradict what the witness saw: a head now below the witnessed one
 * (cut off), or the witnessed entry gone or holding another hash. `heads` must be read after `witnessed`
 * (the witness only ever records entries already stored, so then no honest head is behind it).
 */
export async function contradictions(
  witnessed: readonly WitnessedHead[],
  heads: readonly WitnessedHead[],
): Promise<Contradiction[]> {
  const current = new Map(heads.map((head) => [head.chain, head]));
  const found: Contradiction[] = [];
  const behind: WitnessedHead[] = [];
  for (const seen of witnessed) {
    const head = current.get(seen.chain);
    if (!head) continue;
    const at = { chain: seen.chain, seq: seen.seq };
    if (head.seq < seen.seq) found.push({ ...at, problem: "truncated" });
    else if (head.seq === seen.seq) {
      if (head.hash !== seen.hash) found.push({ ...at, problem: "changed" });
    } else behind.push(seen);
  }
  const stored = await batchGet<{ pk: string; seq: number; hash: string }>(
    getConfig().TABLE_AUDIT,
    behind.map((seen) => ({ pk: seen.chain, seq: seen.seq })),
  );
  const hashes = new Map(stored.map((item) => [`${item.pk}|${item.seq}`, item.hash]));
  for (const seen of behind) {
    const hash = hashes.get(`${seen.chain}|${seen.seq}`);
    if (hash === undefined) found.push({ chain: seen.chain, seq: seen.seq, problem: "removed" });
    else if (hash !== seen.hash) found.push({ chain: seen.chain, seq: seen.seq, problem: "changed" });
  }
  return found;
}

/**
 * Before an org's chains are checkpointed: refuses (with a security event per chain) if any of them
 * contradicts a head the witness recorded. Call with the witnessed heads read before the chain heads.
 */
export async function requireWitnessAgreement(
  orgId: string,
  witnessed: readonly WitnessedHead[],
  heads: readonly WitnessedHead[],
): Promise<void> {
  const found = await contradictions(witnessed, heads);
  for (const contradiction of found) {
    logger.warn("audit chain contradicts the head its witness saw", {
      securityEvent: AUDIT_TAMPER_DETECTED,
      orgId,
      ...contradiction,
      detectedBy: "checkpoint",
    });
  }
  if (found.length > 0) throw new WitnessContradictedError();
}
