import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { batchGet } from "../store/query";

/**
 * What the live witness (`witness.ts`) has recorded per chain, in the witness table, which only it
 * writes: the newest head it saw, only ever advancing, and, once an insert did not fit the chain (a wrong
 * hash or link, a gap, text that is no entry, a planted attribute), where the chain broke. From then on
 * the chain's head is no longer advanced: the checkpoint job pins a broken chain at the last head the
 * witness saw before the break (so every verification from a checkpoint still reads the break), and
 * writers move to the org's other chains.
 */
export type WitnessedHead = { chain: string; seq: number; hash: string };
export type ChainBreak = { seq: number; problem: string };
/** `seenAt`: when the head was last advanced; `brokenAt`: when the break was recorded (ISO times). */
export type WitnessRecord = {
  seq?: number;
  hash?: string;
  seenAt?: string;
  broken?: ChainBreak;
  brokenAt?: string;
};
type Item = {
  pk: string;
  seq?: unknown;
  hash?: unknown;
  seenAt?: unknown;
  broken?: { seq?: unknown; problem?: unknown };
  brokenAt?: unknown;
};

function recordOf(item: Item): WitnessRecord {
  return {
    ...(item.seq !== undefined && { seq: Number(item.seq), hash: String(item.hash) }),
    ...(typeof item.seenAt === "string" && { seenAt: item.seenAt }),
    ...(item.broken && { broken: { seq: Number(item.broken.seq), problem: String(item.broken.problem) } }),
    ...(typeof item.brokenAt === "string" && { brokenAt: item.brokenAt }),
  };
}

/** What the witness recorded for one chain (strongly consistent); empty for a chain it has not seen. */
export async function witnessRecord(chain: string): Promise<WitnessRecord> {
  const out = await aws("dynamo").send(
    new GetCommand({ TableName: getConfig().TABLE_WITNESS, Key: { pk: chain }, ConsistentRead: true }),
  );
  return out.Item ? recordOf(out.Item as Item) : {};
}

/** What the witness recorded for these chains (chains it has not seen are absent). */
export async function witnessedChains(
  chains: readonly string[],
): Promise<(WitnessRecord & { chain: string })[]> {
  const items = await batchGet<Item>(
    getConfig().TABLE_WITNESS,
    chains.map((pk) => ({ pk })),
  );
  return items.map((item) => ({ chain: item.pk, ...recordOf(item) }));
}

const ignoringLostConditions = async (write: Promise<unknown>) => {
  try {
    await write;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
};

/**
 * Records heads the witness has seen. Each only advances, and never on a broken chain: a head at or
 * below the one already recorded (a batch delivered again, a shard read late) changes nothing.
 */
export async function recordHeads(heads: readonly WitnessedHead[]): Promise<void> {
  const seenAt = new Date().toISOString();
  await Promise.all(
    heads.map((head) =>
      ignoringLostConditions(
        aws("dynamo").send(
          new UpdateCommand({
            TableName: getConfig().TABLE_WITNESS,
            Key: { pk: head.chain },
            UpdateExpression: "SET seq = :seq, #hash = :hash, seenAt = :seenAt",
            ConditionExpression: "attribute_not_exists(broken) AND (attribute_not_exists(seq) OR seq < :seq)",
            ExpressionAttributeNames: { "#hash": "hash" },
            ExpressionAttributeValues: { ":seq": head.seq, ":hash": head.hash, ":seenAt": seenAt },
          }),
        ),
      ),
    ),
  );
}

/** Marks chains broken where an insert did not fit them; the first break of a chain is the one kept. */
export async function recordBreaks(breaks: ReadonlyMap<string, ChainBreak>): Promise<void> {
  const seenAt = new Date().toISOString();
  await Promise.all(
    [...breaks].map(([chain, broken]) =>
      ignoringLostConditions(
        aws("dynamo").send(
          new UpdateCommand({
            TableName: getConfig().TABLE_WITNESS,
            Key: { pk: chain },
            UpdateExpression: "SET broken = :broken, brokenAt = :seenAt",
            ConditionExpression: "attribute_not_exists(broken)",
            ExpressionAttributeValues: { ":broken": broken, ":seenAt": seenAt },
          }),
        ),
      ),
    ),
  );
}
