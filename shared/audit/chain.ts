import { randomInt } from "node:crypto";
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { QueryCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ServiceUnavailableError, WriteConflictError } from "../errors";
import { logger } from "../log";
import { noteAppended } from "./disclosure";
import { type AuditEntry, canonicalEntry, chainHash, GENESIS_HASH, type RecordedEntry } from "./entry";

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
/** The chain an id names, or undefined for a key that is no chain's. */
export function parseChainId(chain: string): { orgId: string; shard: number } | undefined {
  const match = /^ORG#([a-z0-9-]{1,63})#SHARD#(\d{1,2})$/.exec(chain);
  return match ? { orgId: match[1] as string, shard: Number(match[2]) } : undefined;
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

/** The last entry's sequence and hash (sequence 0 and the genesis hash for an empty chain). */
export async function chainHead(chain: string): Promise<{ seq: number; hash: string }> {
  const out = await aws("dynamo").send(
    new QueryCommand({
      TableName: getConfig().TABLE_AUDIT,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": chain },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
      ProjectionExpression: "seq, #h",
      ExpressionAttributeNames: { "#h": "hash" },
    }),
  );
  const head = out.Items?.[0];
  return head ? { seq: Number(head.seq), hash: String(head.hash) } : { seq: 0, hash: GENESIS_HASH };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Head = { seq: number; hash: string };
type Position = { shard: number; head?: Head };

/**
 * Appends audit entries to an org's chains. One writer per process (a Lambda instance): it stays on one
 * shard and remembers the head it last wrote there, so an uncontended append is one transaction with no
 * head read. The head is only a guess: the entry's put is conditional on its sequence number being free,
 * so if another writer appended meanwhile the transaction fails and nothing is written.
 * On a lost race the writer moves to another random shard and reads its head; writers that collide
 * spread out until each keeps a chain to itself, which is why the default shard count is sized to the
 * concurrent writers an org is expected to have.
 */
export class ChainWriter {
  /** Per org, the shard this writer keeps to and the head it last wrote there; taken while an append is in flight. */
  readonly #positions = new Map<string, Position>();
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

  /** The writer's position in the org, or a random shard for an append that runs alongside another. */
  #take(orgId: string): Position {
    const position = this.#positions.get(orgId) ?? { shard: randomInt(getConfig().AUDIT_SHARDS) };
    this.#positions.delete(orgId);
    return position;
  }

  /**
   * Appends an entry to one of the org's chains in the same DynamoDB transaction as `items`.
   * Concurrent writers can never fork a chain or leave a gap: each sequence number is one conditional key.
   */
  async append(entry: AuditEntry, items: readonly GuardedItem[] = []): Promise<AppendedEntry> {
    const canonical = canonicalEntry(entry);
    const orgId = entry.actor.orgId;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const position = this.#take(orgId);
      const chain = chainId(orgId, position.shard);
      const head = position.head ?? (await chainHead(chain));
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
        await sleep(randomInt(1 + Math.min(MAX_BACKOFF_MS, 2 ** attempt * 2)));
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
