import { getConfig } from "../config";
import { queryAll } from "../store/query";
import { chainId } from "./chain";
import type { StoredEntry } from "./verify";

/** Every entry of one chain, in sequence order (strongly consistent). */
export function readChain(orgId: string, shard: number): Promise<StoredEntry[]> {
  return queryAll<StoredEntry>({
    TableName: getConfig().TABLE_AUDIT,
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": chainId(orgId, shard) },
  });
}

/** Every chain of an org (one per configured shard). */
export async function readOrgChains(orgId: string): Promise<StoredEntry[][]> {
  return Promise.all(Array.from({ length: getConfig().AUDIT_SHARDS }, (_, shard) => readChain(orgId, shard)));
}
