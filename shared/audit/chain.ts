import { randomInt } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig, MAX_AUDIT_SHARDS } from "../config";
import { ServiceUnavailableError, WriteConflictError } from "../errors";
import { logger } from "../log";
import { noteAppended } from "./disclosure";
import {
  type AuditEntry,
  canonicalEntry,
  chainHash,
  GENESIS_HASH,
  MAX_SEQ,
  parseEntry,
  type RecordedEntry,
} from "./entry";
import { AuditChainsUnusableError } from "./errors";
import { AUDIT_CHAIN_BROKEN } from "./events";
import type { StoredEntry } from "./verify";
import { type WitnessRecord, witnessRecord } from "./witnessed";

/** One item of a DynamoDB transaction (lib-dynamodb shape), with the error to raise if its condition fails. */
export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]
>[number];
export type GuardedItem = { item: TransactItem; onConditionFailed?: () => Error };

export type AppendedEntry = { chain: string; seq: number; hash: string };

/** Enough for dozens of writers racing on one chain; shards keep real contention far lower. */
const MAX_ATTEMPTS = 30;
/** Measured (bench:audit): a longer cap wastes fewer doomed transactions when writers outnumber chains. */
const MAX_BACKOFF_MS = 400;

export const chainId = (orgId: string, shard: number) => `ORG#${orgId}#SHARD#${shard}`;
/** Every chain id, as an IAM string pattern (the audit table's resource policy admits puts to chains only). */
export const CHAIN_ID_PATTERN = "ORG#*#SHARD#*";
/**
 * The chain an id names, or undefined for a key that is no chain's: only the form `chainId` writes (a
 * shard number without leading zeros, below `MAX_AUDIT_SHARDS`), so `SHARD#05` or `SHARD#99` is no chain,
 * however well its item hashes.
 */
export function parseChainId(chain: string): { orgId: string; shard: number } | undefined {
  const match = /^ORG#([a-z0-9-]{1,63})#SHARD#(0|[1-9]\d?)$/.exec(chain);
  const shard = Number(match?.[2]);
  return match && shard < MAX_AUDIT_SHARDS ? { orgId: match[1] as string, shard } : undefined;
}
/** Every attribute an audit item may carry: the chain's (keys, link, hash, text) and the index attributes. */
export const AUDIT_ITEM_ATTRIBUTES = [
  "pk",
  "seq",
  "prevHash",
  "hash",
  "entry",
  "time",
  "at",
  "org",
  "actor",
  "action",
] as const;

/** An entry's place in time order, unique across the org's chains: the sort key of the audit indexes. */
export const entryPosition = (time: string, chain: string, seq: number) =>
  `${time}#${chain}#${String(seq).padStart(12, "0")}`;
export const orgIndexKey = (orgId: string) => `ORG#${orgId}`;
export const actorIndexKey = (orgId: string, userId: string) => `ORG#${orgId}#USER#${userId}`;
/** Where a client's accounting of disclosures is indexed: one pointer per entry that names the client. */
export const disclosurePartition = (orgId: string, clientId: string) => `ORG#${orgId}#DISCLOSED#${clientId}`;
/** Every disclosure pointer's partition, as an IAM string pattern: only an append writes there, nothing else touches it. */
export const DISCLOSURE_PARTITION_PATTERN = "ORG#*#DISCLOSED#*";

/** The clients an entry names: the subjects whose accounting of disclosures lists it. */
export const subjectsOf = (entry: RecordedEntry) => [
  ...new Set([
    ...(entry.resource.clientId ? [entry.resource.clientId] : []),
    ...(entry.resource.clientIds ?? []),
  ]),
];

/**
 * The index attributes an audit item carries beside its hashed text, for the byOrg and byActor indexes.
 * They are not part of the hash, but every one of them follows from the entry and its place in the chain,
 * so the verifier and the witness recompute them and name any that differ.
 */
export function indexAttributes(entry: RecordedEntry, chain: string, seq: number) {
  const orgId = entry.actor.orgId;
  return {
    time: entry.time,
    at: entryPosition(entry.time, chain, seq),
    org: orgIndexKey(orgId),
    actor: actorIndexKey(orgId, entry.actor.id),
    action: entry.action,
  };
}

/**
 * The audit item and its index pointers for one attempt. The index attributes and pointers are not part
 * of the hash: they only find entries, and whatever they find is checked against the chain.
 */
function auditItems(
  entry: AuditEntry,
  canonical: string,
  chain: string,
  seq: number,
  prevHash: string,
  hash: string,
) {
  const { TABLE_AUDIT, TABLE_RECORDS } = getConfig();
  const orgId = entry.actor.orgId;
  const index = indexAttributes(entry, chain, seq);
  const audit: TransactItem = {
    Put: {
      TableName: TABLE_AUDIT,
      Item: { pk: chain, seq, prevHash, hash, entry: canonical, ...index },
      ConditionExpression: "attribute_not_exists(pk)",
    },
  };
  const at = index.at;
  const pointers: TransactItem[] = subjectsOf(entry).map((clientId) => ({
    Put: { TableName: TABLE_RECORDS, Item: { pk: disclosurePartition(orgId, clientId), sk: at, chain, seq } },
  }));
  return [audit, ...pointers];
}

/**
 * The top entries of a chain, newest first, within the sequence numbers a chain may hold (strongly
 * consistent); `headOnly` reads just their sequence and hash, not their text.
 */
function topEntries(chain: string, limit: number, headOnly = false): Promise<StoredEntry[]> {
  return aws("dynamo")
    .send(
      new QueryCommand({
        TableName: getConfig().TABLE_AUDIT,
        KeyConditionExpression: "pk = :pk AND seq BETWEEN :first AND :last",
        ExpressionAttributeValues: { ":pk": chain, ":first": 1, ":last": MAX_SEQ },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
        ...(headOnly && { ProjectionExpression: "seq, #h", ExpressionAttributeNames: { "#h": "hash" } }),
      }),
    )
    .then((out) => (out.Items ?? []) as StoredEntry[]);
}

/** The last entry's sequence and hash (sequence 0 and the genesis hash for an empty chain). */
export async function chainHead(chain: string): Promise<Head> {
  const [head] = await topEntries(chain, 1, true);
  return head ? { seq: Number(head.seq), hash: String(head.hash) } : { seq: 0, hash: GENESIS_HASH };
}

/**
 * Why a chain's head is no place to append to: nothing can follow it (`full`: at `MAX_SEQ`, or at a number
 * between two integers), it does not hash or is no entry, it is not linked to the entry before it (a gap
 * under it, or a link to elsewhere), or the live witness has marked the chain broken, or saw an entry
 * there that is gone or different.
 */
export type HeadProblem = "full" | "hash" | "not-an-entry" | "unlinked" | "broken" | "truncated" | "changed";
type HeadRead = { head: Head; problem?: HeadProblem };

function headProblem(top: StoredEntry | undefined, below: StoredEntry | undefined, seen?: WitnessRecord) {
  const seq = top ? Number(top.seq) : 0;
  if (!Number.isInteger(seq) || seq >= MAX_SEQ) return "full";
  if (top) {
    if (chainHash(String(top.prevHash), seq, String(top.entry)) !== top.hash) return "hash";
    if (!parseEntry(top.entry)) return "not-an-entry";
    const linkedTo = seq === 1 ? GENESIS_HASH : Number(below?.seq) === seq - 1 ? below?.hash : undefined;
    if (linkedTo === undefined || top.prevHash !== linkedTo) return "unlinked";
  }
  if (seen?.broken) return "broken";
  if (seen?.seq !== undefined && seen.seq > seq) return "truncated";
  if (seen?.seq === seq && seq > 0 && seen.hash !== top?.hash) return "changed";
  return undefined;
}

/**
 * A chain's head for a writer that does not know it: what the live witness recorded for the chain, then
 * the top two entries (is the head an entry, linked to the one before it?). In that order: the witness
 * records only entries already stored, so no honest head read after it is behind it.
 */
async function readHead(chain: string): Promise<HeadRead> {
  const seen = await witnessRecord(chain);
  const [top, below] = await topEntries(chain, 2);
  const head = top ? { seq: Number(top.seq), hash: String(top.hash) } : { seq: 0, hash: GENESIS_HASH };
  const problem = headProblem(top, below, seen);
  return { head, ...(problem && { problem }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Head = { seq: number; hash: string };
/** `lastResort`: every chain of the org was found unusable, so this one is appended to all the same. */
type Position = { shard: number; head?: Head; lastResort?: boolean };

/**
 * Appends audit entries to an org's chains. One writer per process (a Lambda instance): it stays on one
 * shard and remembers the head it last wrote there, so an uncontended append is one transaction with no
 * head read. The head is only a guess: the entry's put is conditional on its sequence number being free,
 * so if another writer appended meanwhile the transaction fails and nothing is written.
 * On a lost race the writer moves to another random shard and reads its head; writers that collide
 * spread out until each keeps a chain to itself, which is why the default shard count is sized to the
 * concurrent writers an org is expected to have.
 *
 * A head read is also a check: a chain whose head is not a linked entry (someone put an item on top of
 * it), is full, or that the live witness marked broken or saw otherwise, is unusable: the writer logs
 * `AUDIT_CHAIN_BROKEN` (once per chain) and moves to another of the org's chains, and remembers it for as
 * long as the process lives. Items beyond the highest sequence number are never read as a head, so a put
 * at an absurd sequence leaves the chain under it writable. Should every chain of an org be unusable, the
 * writer appends past a broken head all the same (logged once), so that the org's work goes on and its
 * entries are recorded: the breaks stay where they are, reported by the witness and the verifier.
 */
export class ChainWriter {
  /** Per org, the shard this writer keeps to and the head it last wrote there; taken while an append is in flight. */
  readonly #positions = new Map<string, Position>();
  /** Per org, the shards this writer found unusable. */
  readonly #unusable = new Map<string, Set<number>>();
  readonly #maxOrgs: number;

  /** @param maxOrgs orgs to remember a position in; the least recently used is forgotten first (it costs one head read). */
  constructor(maxOrgs = 1000) {
    this.#maxOrgs = maxOrgs;
  }

  #keep(orgId: string, position: Position) {
    this.#positions.set(orgId, position);
    if (this.#positions.size > this.#maxOrgs)
      this.#positions.delete(this.#positions.keys().next().value as string);
  }

  /** The writer's position in the org, or a random usable shard for an append that runs alongside another. */
  #take(orgId: string): Position {
    const kept = this.#positions.get(orgId);
    this.#positions.delete(orgId);
    if (kept) return kept;
    const shards = getConfig().AUDIT_SHARDS;
    const unusable = this.#unusable.get(orgId);
    if (!unusable) return { shard: randomInt(shards) };
    const usable = Array.from({ length: shards }, (_, shard) => shard).filter(
      (shard) => !unusable.has(shard),
    );
    if (usable.length === 0) return { shard: randomInt(shards), lastResort: true };
    return { shard: usable[randomInt(usable.length)] as number };
  }

  /** Notes a chain found unusable: a security event the first time (and once more when none is left). */
  #unusableChain(orgId: string, shard: number, problem: HeadProblem) {
    let unusable = this.#unusable.get(orgId);
    if (!unusable) {
      unusable = new Set();
      this.#unusable.set(orgId, unusable);
      if (this.#unusable.size > this.#maxOrgs)
        this.#unusable.delete(this.#unusable.keys().next().value as string);
    }
    if (unusable.has(shard)) return;
    unusable.add(shard);
    const chain = chainId(orgId, shard);
    logger.warn("audit chain unusable: appending elsewhere", {
      securityEvent: AUDIT_CHAIN_BROKEN,
      orgId,
      chain,
      problem,
      detectedBy: "writer",
    });
    if (unusable.size >= getConfig().AUDIT_SHARDS)
      logger.warn("every audit chain of the org is unusable: appending past a broken head", {
        securityEvent: AUDIT_CHAIN_BROKEN,
        orgId,
        problem: "no-usable-chain",
        detectedBy: "writer",
      });
  }

  /**
   * Appends an entry to one of the org's chains in the same DynamoDB transaction as `items`.
   * Concurrent writers can never fork a chain or leave a gap: each sequence number is one conditional key.
   */
  async append(entry: AuditEntry, items: readonly GuardedItem[] = []): Promise<AppendedEntry> {
    const canonical = canonicalEntry(entry);
    const orgId = entry.actor.orgId;
    let attempts = 0;
    while (attempts < MAX_ATTEMPTS) {
      const position = this.#take(orgId);
      const chain = chainId(orgId, position.shard);
      let head = position.head;
      if (!head) {
        const read = await readHead(chain);
        if (read.problem) {
          this.#unusableChain(orgId, position.shard, read.problem);
          // Another chain at once (no attempt spent: at most one head read per chain finds it unusable) …
          if (!position.lastResort) continue;
          // … or, with none left, past this head, unless nothing fits after it.
          if (read.problem === "full") throw new AuditChainsUnusableError();
        }
        head = read.head;
      }
      attempts++;
      const seq = head.seq + 1;
      const hash = chainHash(head.hash, seq, canonical);
      try {
        await aws("dynamo").send(
          new TransactWriteCommand({
            TransactItems: [
              ...items.map((guarded) => guarded.item),
              ...auditItems(entry, canonical, chain, seq, head.hash, hash),
            ],
          }),
        );
        this.#keep(orgId, { shard: position.shard, head: { seq, hash } });
        noteAppended(entry);
        return { chain, seq, hash };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const failedData = items.findIndex((_, index) => reasons[index]?.Code === "ConditionalCheckFailed");
        if (failedData >= 0) {
          this.#keep(orgId, position);
          throw items[failedData]?.onConditionFailed?.() ?? new WriteConflictError({ cause: error });
        }
        // The chain moved under us (or a transaction conflict): back off with full jitter, then move.
        await sleep(randomInt(1 + Math.min(MAX_BACKOFF_MS, 2 ** attempts * 2)));
      }
    }
    logger.warn("audit append gave up after retries", { orgId, attempts: MAX_ATTEMPTS });
    throw new ServiceUnavailableError("AUDIT_CONTENTION");
  }
}

/** This process's writer. */
let writer = new ChainWriter();
export const appendWithItems = (entry: AuditEntry, items: readonly GuardedItem[] = []) =>
  writer.append(entry, items);

/** Forgets every remembered chain position (tests, so that each append starts by reading its head). */
export function forgetChainPositions(): void {
  writer = new ChainWriter();
}
