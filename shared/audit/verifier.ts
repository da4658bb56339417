import { createHash } from "node:crypto";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig, MAX_AUDIT_SHARDS } from "../config";
import { chainId } from "./chain";
import {
  type CheckpointObject,
  type CheckpointProblem,
  checkpointHash,
  checkpointObjects,
  checkpointProblem,
  configuredSigningKeys,
  type PreviousCheckpoint,
  readCheckpointVersion,
  type SignedCheckpoint,
  type SigningKeys,
} from "./checkpoint";
import { GENESIS_HASH, isChainSeq, MAX_SEQ, parseEntry } from "./entry";
import { CheckpointNotFoundError } from "./errors";
import { checkIndexes, type IndexProblem } from "./indexes";
import {
  advanceChain,
  type ChainCursor,
  type ChainProblem,
  type ChainReport,
  type StoredEntry,
} from "./verify";

/**
 * The verifier of an org's audit trail, in steps that fit a function's time and memory: it reads each
 * chain a page at a time (never a whole chain in memory) and the signed checkpoints a window at a time,
 * checking on each page the sequence, links and hashes, the index attributes and disclosure pointers,
 * and every checkpointed head that falls in it. Everything it has established lives in a plain,
 * serializable `VerificationProgress`, so a run can stop after any page and another can resume it.
 *
 * Checkpoints are read in order; each window of them fixes, per chain, the highest sequence they pin,
 * and the chains are read up to there before the next window opens. From genesis every entry is read;
 * from a checkpoint, each chain from the head that checkpoint pinned (its signature vouches for what came
 * before). The result does not depend on where runs stopped or how pages fell: problems found in any
 * order are kept as the first in the trail's order (checkpoint by checkpoint, chain by chain).
 */
export type VerifyFrom = "genesis" | "latest" | number;

/** Checkpoints read and checked together before the chains are read up to the heads they pin. */
const WINDOW = 10;
/** Checkpoint versions listed in a report (the newest); the digest covers every one. */
const MAX_LISTED_VERSIONS = 1000;

export type ChainProgress = ChainCursor & { chain: string; entries: number; ended: boolean };
export type CheckpointVersion = { number: number; versionId: string };

export type VerificationProgress = {
  orgId: string;
  from: VerifyFrom;
  /** The checkpoint verification started from (0 = genesis). */
  fromCheckpoint: number;
  /** The series continues after this checkpoint key (the last of the windows completed). */
  afterKey?: string;
  /** How many checkpoints the open window holds (0: none open); fixed when first read, so a resumed run reads the same ones. */
  window: number;
  previous?: PreviousCheckpoint;
  /** No checkpoint is left to read: the chains are read to their ends. */
  seriesDone: boolean;
  checkpoints: number;
  chains: ChainProgress[];
  checkpointProblem?: CheckpointProblem;
  indexProblem?: IndexProblem;
  /** An item found in one of the org's chains beyond those verified (`uncovered`), once every chain is read. */
  uncovered?: ChainProblem;
  /** The S3 version of each checkpoint read (the newest `MAX_LISTED_VERSIONS`) … */
  checkpointVersions: CheckpointVersion[];
  /** … and a hash chain over all of them: SHA-256(previous ‖ "\n" ‖ number ‖ " " ‖ versionId). */
  checkpointVersionDigest: string;
  done: boolean;
};

export type OrgVerification = {
  orgId: string;
  fromCheckpoint: number;
  intact: boolean;
  entries: number;
  checkpoints: number;
  chains: ChainReport[];
  /** The first bad entry, if any: chain, sequence and what is wrong with it. */
  entryProblem?: ChainReport["problem"];
  /** The first checkpoint the chains (or the checkpoint series, or its objects' versions) no longer match. */
  checkpointProblem?: CheckpointProblem;
  /**
   * The first entry whose index attributes differ from what its text implies, or whose pointer in its
   * client's accounting of disclosures is missing or re-aimed.
   */
  indexProblem?: IndexProblem;
  checkpointVersions: CheckpointVersion[];
  checkpointVersionDigest: string;
};

/**
 * Where a verification job keeps its state and, when done, its report (records table): the job
 * (`functions/audit/verify.job.ts`) alone writes this partition; the compliance report reads it.
 */
export const VERIFICATION_PARTITION_PATTERN = "AUDITVERIFY#*";
export const verificationKey = (orgId: string, jobId: string) => ({ pk: `AUDITVERIFY#${orgId}`, sk: jobId });

const checkpointKey = (orgId: string, number: number) =>
  `${orgId}/checkpoints/${String(number).padStart(12, "0")}.json`;
const shardOf = (chain: string) => Number(chain.slice(chain.lastIndexOf("#") + 1));

/** Where a verification starts, resolved: `latest` to the newest checkpoint (genesis if there is none), `n` checked to exist. */
export async function beginVerification(orgId: string, from: VerifyFrom): Promise<VerificationProgress> {
  const progress: VerificationProgress = {
    orgId,
    from,
    fromCheckpoint: 0,
    window: 0,
    seriesDone: false,
    checkpoints: 0,
    chains: [],
    checkpointVersions: [],
    checkpointVersionDigest: GENESIS_HASH,
    done: false,
  };
  if (from === "latest") {
    let before: string | undefined;
    let newest: CheckpointObject | undefined;
    for await (const object of checkpointObjects(orgId)) {
      before = newest?.key;
      newest = object;
    }
    if (!newest) return { ...progress, seriesDone: true };
    return { ...progress, fromCheckpoint: newest.number, ...(before && { afterKey: before }) };
  }
  if (typeof from === "number") {
    if (!(await checkpointExists(orgId, from))) throw new CheckpointNotFoundError();
    return { ...progress, fromCheckpoint: from, afterKey: checkpointKey(orgId, from - 1) };
  }
  return progress;
}

/** Whether checkpoint `number` exists (one listing call, not the series): lets a caller answer 404 at once. */
export async function checkpointExists(orgId: string, number: number): Promise<boolean> {
  const first = await checkpointObjects(orgId, checkpointKey(orgId, number - 1)).next();
  return !first.done && first.value.number === number;
}

type Pin = { checkpoint: number; seq: number; hash: string };
type Window = { objects: CheckpointObject[]; pins: Map<string, Pin[]>; previous?: PreviousCheckpoint };

const PROBLEM_RANK: Record<CheckpointProblem["problem"], number> = {
  deleted: 0,
  replaced: 0,
  signature: 1,
  link: 2,
  merkle: 3,
  "head-mismatch": 4,
  truncated: 4,
};

/** Keeps the first problem in the trail's order, whatever order problems were found in. */
function noteCheckpointProblem(progress: VerificationProgress, problem: CheckpointProblem) {
  const order = (p: CheckpointProblem) => [
    p.checkpoint,
    PROBLEM_RANK[p.problem],
    p.chain ? shardOf(p.chain) : -1,
  ];
  const current = progress.checkpointProblem;
  if (!current || compare(order(problem), order(current)) < 0) progress.checkpointProblem = problem;
}

function noteIndexProblem(progress: VerificationProgress, problem: IndexProblem | undefined) {
  if (!problem) return;
  const order = (p: IndexProblem) => [shardOf(p.chain), p.seq];
  const current = progress.indexProblem;
  if (!current || compare(order(problem), order(current)) < 0) progress.indexProblem = problem;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** Adds the chains a checkpoint (or the configuration) covers; the base checkpoint's heads are where they start. */
function ensureChains(progress: VerificationProgress, count: number, base?: SignedCheckpoint) {
  const wanted = Math.min(MAX_AUDIT_SHARDS, Math.max(count, getConfig().AUDIT_SHARDS));
  const pinned = new Map(base?.checkpoint.heads.map((head) => [head.chain, head.seq]));
  for (let shard = progress.chains.length; shard < wanted; shard++) {
    const chain = chainId(progress.orgId, shard);
    const start = pinned.get(chain) ?? 0;
    // From a checkpointed head the first entry's stored link is taken as read: the head's signed hash covers it.
    progress.chains.push(
      start >= 1
        ? { chain, next: start, entries: 0, ended: false }
        : { chain, next: 1, previousHash: GENESIS_HASH, entries: 0, ended: false },
    );
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Reads and checks the next window of checkpoints (the same ones again when a run resumes mid-window). */
async function openWindow(progress: VerificationProgress, keys: SigningKeys): Promise<Window | undefined> {
  const wanted = progress.window || (progress.from === "latest" ? 1 : WINDOW);
  const objects: CheckpointObject[] = [];
  for await (const object of checkpointObjects(progress.orgId, progress.afterKey)) {
    objects.push(object);
    if (objects.length === wanted) break;
  }
  if (objects.length === 0) return undefined;
  progress.window = objects.length;
  const signed = await mapLimit(objects, getConfig().AUDIT_VERIFY_CONCURRENCY, (object) =>
    object.deleted ? Promise.resolve(undefined) : readCheckpointVersion(object),
  );
  const pins = new Map<string, Pin[]>();
  let previous = progress.previous;
  objects.forEach((object, index) => {
    const checkpoint = signed[index];
    const problem = checkpointProblem(
      progress.orgId,
      object,
      checkpoint,
      keys,
      previous,
      progress.fromCheckpoint === 0,
    );
    if (problem) noteCheckpointProblem(progress, problem);
    if (!checkpoint) return;
    const isBase = progress.fromCheckpoint > 0 && object.number === progress.fromCheckpoint;
    ensureChains(progress, checkpoint.checkpoint.heads.length, isBase ? checkpoint : undefined);
    for (const head of checkpoint.checkpoint.heads) {
      if (head.seq === 0 || !progress.chains.some((cursor) => cursor.chain === head.chain)) continue;
      pins.set(head.chain, [
        ...(pins.get(head.chain) ?? []),
        { checkpoint: object.number, seq: head.seq, hash: head.hash },
      ]);
    }
    previous = { number: checkpoint.checkpoint.number, hash: checkpointHash(checkpoint.checkpoint) };
  });
  return { objects, pins, ...(previous && { previous }) };
}

function closeWindow(progress: VerificationProgress, window: Window) {
  progress.afterKey = window.objects.at(-1)?.key;
  progress.window = 0;
  if (window.previous) progress.previous = window.previous;
  progress.checkpoints += window.objects.length;
  for (const object of window.objects) {
    progress.checkpointVersions.push({ number: object.number, versionId: object.versionId });
    progress.checkpointVersionDigest = createHash("sha256")
      .update(`${progress.checkpointVersionDigest}\n${object.number} ${object.versionId}`)
      .digest("hex");
  }
  progress.checkpointVersions.splice(
    0,
    Math.max(0, progress.checkpointVersions.length - MAX_LISTED_VERSIONS),
  );
  if (progress.from === "latest") progress.seriesDone = true;
}

/** The entries of a chain from `from` to `to` (never beyond `MAX_SEQ`), a page at a time. */
function readPage(chain: string, from: number, to: number) {
  const { TABLE_AUDIT, AUDIT_VERIFY_PAGE } = getConfig();
  return aws("dynamo").send(
    new QueryCommand({
      TableName: TABLE_AUDIT,
      KeyConditionExpression: "pk = :pk AND seq BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": chain, ":from": from, ":to": Math.min(to, MAX_SEQ) },
      Limit: AUDIT_VERIFY_PAGE,
      ConsistentRead: true,
    }),
  );
}

/** Whether a chain's key also holds items numbered below 1 or beyond `MAX_SEQ` (which no page reads). */
async function strayItems(chain: string): Promise<"below" | "above" | undefined> {
  const probe = (condition: string, bound: Record<string, number>) =>
    aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_AUDIT,
        KeyConditionExpression: `pk = :pk AND ${condition}`,
        ExpressionAttributeValues: { ":pk": chain, ...bound },
        ProjectionExpression: "pk",
        Limit: 1,
        ConsistentRead: true,
      }),
    );
  const [below, above] = await Promise.all([
    probe("seq < :first", { ":first": 1 }),
    probe("seq > :last", { ":last": MAX_SEQ }),
  ]);
  return below.Items?.length ? "below" : above.Items?.length ? "above" : undefined;
}

/**
 * The first item in a chain of the org beyond the `covered` ones (up to `MAX_AUDIT_SHARDS`, the most a
 * chain id may name): no writer appends there and no checkpoint pins it, so anything there was put by
 * hand, and would otherwise show in the org's compliance queries unverified. One key lookup per shard.
 */
async function uncoveredItem(orgId: string, covered: number): Promise<ChainProblem | undefined> {
  const chains = Array.from({ length: Math.max(0, MAX_AUDIT_SHARDS - covered) }, (_, index) =>
    chainId(orgId, covered + index),
  );
  const found = await mapLimit(chains, getConfig().AUDIT_VERIFY_CONCURRENCY, async (chain) => {
    const out = await aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_AUDIT,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": chain },
        ProjectionExpression: "pk, seq",
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    const seq = Number(item?.seq);
    return item ? { chain, seq: isChainSeq(seq) ? seq : 0, problem: "uncovered" as const } : undefined;
  });
  return found.find((problem) => problem !== undefined);
}

/** A head pinned at or before what the chain's check has already passed: the last entry read, or read again. */
async function checkPinsBehind(progress: VerificationProgress, cursor: ChainProgress, pins: readonly Pin[]) {
  for (const pin of pins.filter((p) => p.seq < cursor.next)) {
    const hash =
      pin.seq === cursor.next - 1 && cursor.previousHash !== undefined
        ? cursor.previousHash
        : ((await readPage(cursor.chain, pin.seq, pin.seq)).Items?.[0]?.hash as string | undefined);
    if (hash === undefined) noteCheckpointProblem(progress, pinProblem(pin, cursor.chain, "truncated"));
    else if (hash !== pin.hash)
      noteCheckpointProblem(progress, pinProblem(pin, cursor.chain, "head-mismatch"));
  }
}

const pinProblem = (pin: Pin, chain: string, problem: "truncated" | "head-mismatch"): CheckpointProblem => ({
  checkpoint: pin.checkpoint,
  problem,
  chain,
});

export type AdvanceOptions = {
  /** Asked before each page once a run has done one: true stops the run (its progress is consistent). */
  shouldStop: () => boolean;
  /** Called after each page and each window with the progress so far (to save it). */
  onProgress: (progress: VerificationProgress) => Promise<void>;
};

/**
 * Reads every chain that still has entries to check up to its target (the highest head the window pins,
 * or its end), with bounded concurrency, a page at a time. Returns false if the run was asked to stop.
 */
async function readChains(
  progress: VerificationProgress,
  pins: ReadonlyMap<string, readonly Pin[]> | "to-the-end",
  run: { steps: number; stopped: boolean },
  options: AdvanceOptions,
): Promise<boolean> {
  const toTheEnd = pins === "to-the-end";
  const pinsOf = (chain: string) => (toTheEnd ? [] : (pins.get(chain) ?? []));
  const targetOf = (chain: string) =>
    toTheEnd ? Number.POSITIVE_INFINITY : Math.max(0, ...pinsOf(chain).map((pin) => pin.seq));
  const work = progress.chains.filter((cursor) =>
    toTheEnd ? !cursor.ended : pinsOf(cursor.chain).length > 0,
  );
  const readChain = async (cursor: ChainProgress) => {
    const chainPins = pinsOf(cursor.chain);
    const target = Math.min(targetOf(cursor.chain), MAX_SEQ);
    await checkPinsBehind(progress, cursor, chainPins);
    while (toTheEnd ? !cursor.ended : cursor.next <= target) {
      if (run.stopped || (run.steps > 0 && options.shouldStop())) {
        run.stopped = true;
        return;
      }
      // (Nothing left to read once a chain reached MAX_SEQ.)
      const out: { Items?: unknown[]; LastEvaluatedKey?: unknown } =
        cursor.next <= target ? await readPage(cursor.chain, cursor.next, target) : {};
      const items = (out.Items ?? []) as StoredEntry[];
      const parsed = items.map((item) => parseEntry(item.entry));
      const indexProblem = await checkIndexes(progress.orgId, items, parsed);
      const ended = !out.LastEvaluatedKey;
      // At the chain's end: what its key holds outside the numbers a chain position may have.
      const stray = ended && toTheEnd ? await strayItems(cursor.chain) : undefined;
      // From here to the save nothing awaits: a save made meanwhile by another chain's worker never holds
      // half a page (the cursor moved on, the page's findings not yet noted).
      const before = cursor.next;
      advanceChain(cursor, items, parsed);
      if (stray)
        cursor.problem ??= {
          chain: cursor.chain,
          seq: stray === "below" ? 0 : cursor.next,
          problem: "sequence",
        };
      cursor.entries += items.length;
      const bySeq = new Map(items.map((item) => [Number(item.seq), item]));
      const last = items.length > 0 ? cursor.next - 1 : before - 1;
      for (const pin of chainPins.filter((p) => p.seq >= before && (p.seq <= last || ended))) {
        const entry = bySeq.get(pin.seq);
        if (!entry) noteCheckpointProblem(progress, pinProblem(pin, cursor.chain, "truncated"));
        else if (entry.hash !== pin.hash)
          noteCheckpointProblem(progress, pinProblem(pin, cursor.chain, "head-mismatch"));
      }
      noteIndexProblem(progress, indexProblem);
      if (ended && toTheEnd) cursor.ended = true;
      run.steps++;
      await options.onProgress(progress);
      if (ended) return;
    }
  };
  await mapLimit(work, getConfig().AUDIT_VERIFY_CONCURRENCY, async (cursor) => {
    try {
      await readChain(cursor);
    } catch (error) {
      run.stopped = true; // the other chains' workers stop at their next page instead of carrying on
      throw error;
    }
  });
  return !run.stopped;
}

/**
 * Advances a verification until it is done or `shouldStop` says to stop (never before one step, so every
 * run makes progress). The progress object is updated in place and handed to `onProgress` after each step.
 */
export async function advanceVerification(progress: VerificationProgress, options: AdvanceOptions) {
  const run = { steps: 0, stopped: false };
  let keys: SigningKeys | undefined;
  while (!progress.done) {
    if (run.steps > 0 && options.shouldStop()) return;
    if (!progress.seriesDone) {
      keys ??= await configuredSigningKeys();
      const window = await openWindow(progress, keys);
      if (!window) {
        progress.seriesDone = true;
        continue;
      }
      if (!(await readChains(progress, window.pins, run, options))) return;
      closeWindow(progress, window);
    } else {
      ensureChains(progress, 0);
      if (!(await readChains(progress, "to-the-end", run, options))) return;
      const uncovered = await uncoveredItem(progress.orgId, progress.chains.length);
      if (uncovered) progress.uncovered = uncovered;
      progress.done = true;
    }
    run.steps++;
    await options.onProgress(progress);
  }
}

/** The report of a finished (or, for progress figures, unfinished) verification. */
export function verificationReport(progress: VerificationProgress): OrgVerification {
  const chains: ChainReport[] = progress.chains.map((cursor) => ({
    chain: cursor.chain,
    entries: cursor.entries,
    ...(cursor.problem && { problem: cursor.problem }),
  }));
  // Chains beyond the covered ones come after them in the trail's order.
  const entryProblem = chains.find((report) => report.problem)?.problem ?? progress.uncovered;
  const { checkpointProblem: pinned, indexProblem } = progress;
  return {
    orgId: progress.orgId,
    fromCheckpoint: progress.fromCheckpoint,
    intact: !entryProblem && !pinned && !indexProblem,
    entries: chains.reduce((total, report) => total + report.entries, 0),
    checkpoints: progress.checkpoints,
    chains,
    ...(entryProblem && { entryProblem }),
    ...(pinned && { checkpointProblem: pinned }),
    ...(indexProblem && { indexProblem }),
    checkpointVersions: progress.checkpointVersions,
    checkpointVersionDigest: progress.checkpointVersionDigest,
  };
}

/**
 * Verifies an org's audit trail in this process, start to end (`npm run audit:verify`, tests): the same
 * steps as the verification job, without stopping or saving.
 */
export async function verifyOrg(orgId: string, from: VerifyFrom = "genesis"): Promise<OrgVerification> {
  const progress = await beginVerification(orgId, from);
  await advanceVerification(progress, { shouldStop: () => false, onProgress: async () => undefined });
  return verificationReport(progress);
}
