import { chainId } from "./chain";
import {
  type ChainSpan,
  type CheckpointProblem,
  listCheckpoints,
  shardsToCover,
  verifyCheckpointRun,
} from "./checkpoint";
import { GENESIS_HASH } from "./entry";
import { CheckpointNotFoundError } from "./errors";
import { checkIndexes, type IndexProblem } from "./indexes";
import { readChain } from "./read";
import { type ChainProblem, type ChainReport, verifyChain } from "./verify";

/** Where verification starts: the first entry of every chain, the newest checkpoint, or checkpoint n. */
export type VerifyFrom = "genesis" | "latest" | number;

export type OrgVerification = {
  orgId: string;
  /** The checkpoint verification started from (0 = genesis). */
  fromCheckpoint: number;
  intact: boolean;
  entries: number;
  checkpoints: number;
  chains: ChainReport[];
  /** The first bad entry, if any: chain, sequence and what is wrong with it. */
  entryProblem?: ChainProblem;
  /** The first checkpoint the chains (or the checkpoint series) no longer match. */
  checkpointProblem?: CheckpointProblem;
  /**
   * The first entry whose index attributes differ from what its text implies, or whose pointer in its
   * client's accounting of disclosures is missing or re-aimed.
   */
  indexProblem?: IndexProblem;
};

/**
 * Verifies an org's audit trail: every chain's sequence, links and hashes, and every signed checkpoint
 * (signature, link, Merkle root, pinned heads). From a checkpoint, each chain is read and checked only
 * from the head that checkpoint pinned on, which its signature vouches for; the entries before it are
 * covered by the checkpoint (and by whichever earlier verification produced trust in it).
 */
export async function verifyOrg(orgId: string, from: VerifyFrom = "genesis"): Promise<OrgVerification> {
  const run = await listCheckpoints(orgId, from === "genesis" ? 1 : from);
  // From the latest checkpoint of an org that has none, verification starts at genesis.
  const base = from === "genesis" ? undefined : run[0];
  const fromCheckpoint = base?.checkpoint.number ?? 0;
  if (typeof from === "number" && fromCheckpoint !== from) throw new CheckpointNotFoundError();
  const pinned = new Map(base?.checkpoint.heads.map((head) => [head.chain, head.seq]));
  const spans = new Map<string, ChainSpan>();
  const chains = await Promise.all(
    Array.from({ length: shardsToCover(run) }, async (_, shard): Promise<ChainReport> => {
      const chain = chainId(orgId, shard);
      const first = Math.max(pinned.get(chain) ?? 1, 1);
      const entries = await readChain(orgId, shard, first);
      spans.set(chain, { first, entries });
      // From a checkpoint, the pinned entry's own hash is recomputed from its stored link; the
      // checkpoint check below then compares that hash with the signed one.
      const previousHash = first === 1 ? GENESIS_HASH : (entries[0]?.prevHash ?? GENESIS_HASH);
      const problem = verifyChain(entries, { seq: first, previousHash });
      return { chain, entries: entries.length, ...(problem && { problem }) };
    }),
  );
  const checkpointProblem = await verifyCheckpointRun(orgId, run, spans, fromCheckpoint === 0);
  const indexProblem = await checkIndexes(
    orgId,
    [...spans.values()].flatMap((span) => span.entries),
  );
  const entryProblem = chains.find((report) => report.problem)?.problem;
  return {
    orgId,
    fromCheckpoint,
    intact: !entryProblem && !checkpointProblem && !indexProblem,
    entries: chains.reduce((total, report) => total + report.entries, 0),
    checkpoints: run.length,
    chains,
    ...(entryProblem && { entryProblem }),
    ...(checkpointProblem && { checkpointProblem }),
    ...(indexProblem && { indexProblem }),
  };
}
