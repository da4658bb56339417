import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { chainId } from "./chain";
import type { StoredEntry } from "./verify";

/** Every entry of one chain, in sequence order (strongly consistent). */
export async function readChain(orgId: string, shard: number): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_AUDIT,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": chainId(orgId, shard) },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    entries.push(...((out.Items ?? []) as StoredEntry[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return entries;
}

/** Every chain of an org (one per configured shard). */
export async function readOrgChains(orgId: string): Promise<StoredEntry[][]> {
  return Promise.all(Array.from({ length: getConfig().AUDIT_SHARDS }, (_, shard) => readChain(orgId, shard)));
}
