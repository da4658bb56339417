import { getConfig } from "../config";
import { queryAll } from "../store/query";
import { chainId } from "./chain";
import { MAX_SEQ } from "./entry";
import type { StoredEntry } from "./verify";

/** The entries of one chain from sequence `from` on, in sequence order (strongly consistent; none beyond `MAX_SEQ`). */
export function readChain(orgId: string, shard: number, from = 1): Promise<StoredEntry[]> {
  return queryAll<StoredEntry>({
    TableName: getConfig().TABLE_AUDIT,
    KeyConditionExpression: "pk = :pk AND seq BETWEEN :from AND :last",
    ExpressionAttributeValues: { ":pk": chainId(orgId, shard), ":from": from, ":last": MAX_SEQ },
  });
}

/** Every chain of an org (one per configured shard). */
export async function readOrgChains(orgId: string): Promise<StoredEntry[][]> {
  return Promise.all(Array.from({ length: getConfig().AUDIT_SHARDS }, (_, shard) => readChain(orgId, shard)));
}
