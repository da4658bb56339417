import { type AuditEntry, canonicalEntry, chainHash, GENESIS_HASH } from "./entry";

export type StoredEntry = { pk: string; seq: number; prevHash: string; hash: string; entry: string };
export type ChainProblem = { chain: string; seq: number; problem: "gap" | "link" | "hash" | "encoding" };

/**
 * Checks one chain from genesis: sequence numbers 1..n without gaps, each entry linked to the previous
 * hash, each hash recomputed from the canonical entry. Returns the first problem, or undefined.
 */
export function verifyChain(entries: readonly StoredEntry[]): ChainProblem | undefined {
  let previous = GENESIS_HASH;
  for (let index = 0; index < entries.length; index++) {
    const stored = entries[index] as StoredEntry;
    const at = { chain: stored.pk, seq: stored.seq };
    if (stored.seq !== index + 1) return { ...at, problem: "gap" };
    if (stored.prevHash !== previous) return { ...at, problem: "link" };
    let canonical: string;
    try {
      canonical = canonicalEntry(JSON.parse(stored.entry) as AuditEntry);
    } catch {
      return { ...at, problem: "encoding" };
    }
    if (canonical !== stored.entry) return { ...at, problem: "encoding" };
    if (chainHash(previous, stored.seq, stored.entry) !== stored.hash) return { ...at, problem: "hash" };
    previous = stored.hash;
  }
  return undefined;
}

export type ChainReport = { chain: string; entries: number; problem?: ChainProblem };

/** Verifies every chain of one org from genesis; the first problem of each chain is reported. */
export function verifyChains(
  chains: readonly (readonly StoredEntry[])[],
  chainIds: readonly string[],
): ChainReport[] {
  return chains.map((entries, index) => {
    const problem = verifyChain(entries);
    return { chain: chainIds[index] as string, entries: entries.length, ...(problem && { problem }) };
  });
}
