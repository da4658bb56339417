import { chainHash, GENESIS_HASH, isChainSeq, MAX_SEQ, parseEntry, type RecordedEntry } from "./entry";

export type StoredEntry = { pk: string; seq: number; prevHash: string; hash: string; entry: string };
/**
 * `entry`: the stored text hashes right but is not an entry (`shared/audit/entry.ts`). `sequence`: the
 * chain's key holds an item at a number no chain position has (below 1, beyond `MAX_SEQ`, or not an
 * integer); `seq` is then 0 for one below 1, and otherwise the position the chain had reached.
 * `uncovered`: an item in a chain of the org that no writer appends to and no checkpoint covers (a shard
 * beyond the ones verified), put there by hand.
 */
export type ChainProblem = {
  chain: string;
  seq: number;
  problem: "gap" | "link" | "hash" | "entry" | "sequence" | "uncovered";
};

/** Where a check starts: genesis, or a checkpointed entry's sequence and the hash before it. */
export type ChainStart = { seq: number; previousHash: string };
const GENESIS: ChainStart = { seq: 1, previousHash: GENESIS_HASH };

/**
 * Where the check of one chain stands between pages: the next sequence number expected, the hash it must
 * link to (absent before the first entry read from a checkpointed head, whose stored link the checkpoint
 * vouches for), and the first problem found.
 */
export type ChainCursor = { next: number; previousHash?: string; problem?: ChainProblem };

/**
 * Checks the next entries of one chain (ascending) from its cursor and moves the cursor past them, past
 * the last even when it has no chain position: consecutive sequence numbers without gaps, each entry
 * linked to the previous hash, each hash recomputed from the stored text, and that text an entry. Only
 * the first problem is kept; after it the check goes on from the stored entries. `parsed` holds the
 * entries' texts already parsed (the verifier parses a page once).
 */
export function advanceChain(
  cursor: ChainCursor,
  entries: readonly StoredEntry[],
  parsed: readonly (RecordedEntry | undefined)[] = entries.map((stored) => parseEntry(stored.entry)),
): void {
  for (const [index, stored] of entries.entries()) {
    const seq = Number(stored.seq);
    if (!isChainSeq(seq)) {
      // No place in the chain: named, then passed over (the chain goes on from the entries around it).
      cursor.problem ??= { chain: stored.pk, seq: cursor.next, problem: "sequence" };
      // The cursor still moves past it: every position up to it was read, so a page of nothing but such
      // items (between two integers) is never read again from the same place (a live-lock otherwise).
      if (Number.isFinite(seq)) cursor.next = Math.max(cursor.next, Math.min(Math.floor(seq), MAX_SEQ) + 1);
      continue;
    }
    const previous = cursor.previousHash ?? stored.prevHash;
    if (!cursor.problem) {
      const at = { chain: stored.pk, seq };
      if (seq !== cursor.next) cursor.problem = { ...at, problem: "gap" };
      else if (stored.prevHash !== previous) cursor.problem = { ...at, problem: "link" };
      // The hash covers the stored text byte for byte (the writer stored it RFC 8785-canonical), so any
      // change to it shows here without parsing it.
      else if (chainHash(previous, seq, stored.entry) !== stored.hash)
        cursor.problem = { ...at, problem: "hash" };
      else if (!parsed[index]) cursor.problem = { ...at, problem: "entry" };
    }
    cursor.next = seq + 1;
    cursor.previousHash = String(stored.hash);
  }
}

/** Checks one chain held in memory from `start`; returns the first problem, or undefined. */
export function verifyChain(
  entries: readonly StoredEntry[],
  start: ChainStart = GENESIS,
): ChainProblem | undefined {
  const cursor: ChainCursor = { next: start.seq, previousHash: start.previousHash };
  advanceChain(cursor, entries);
  return cursor.problem;
}

export type ChainReport = { chain: string; entries: number; problem?: ChainProblem };
