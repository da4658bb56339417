import { BatchGetCommand, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ServiceUnavailableError } from "../errors";

/**
 * Every item a query matches, following DynamoDB's pages. Strongly consistent on the table; a global
 * secondary index only offers eventually consistent reads.
 */
export async function queryAll<T>(
  input: Omit<QueryCommandInput, "ExclusiveStartKey" | "ConsistentRead">,
): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await aws("dynamo").send(
      new QueryCommand({ ...input, ConsistentRead: !input.IndexName, ExclusiveStartKey: start }),
    );
    items.push(...((out.Items ?? []) as T[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every record of an org whose sort key starts with `prefix` (`USER#`, `SESSION#<clientId>#` …). */
export function recordsWithPrefix<T>(orgId: string, prefix: string): Promise<T[]> {
  return queryAll<T>({
    TableName: getConfig().TABLE_RECORDS,
    KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
    ExpressionAttributeValues: { ":p": `ORG#${orgId}`, ":prefix": prefix },
  });
}

const BATCH_GET_LIMIT = 100;

/**
 * The items with these keys (strongly consistent), in no particular order; missing keys are simply
 * absent. Batches of 100, retrying what DynamoDB leaves unprocessed a bounded number of times.
 */
export async function batchGet<T>(table: string, keys: readonly Record<string, unknown>[]): Promise<T[]> {
  const items: T[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    let pending = keys.slice(start, start + BATCH_GET_LIMIT);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 5) throw new ServiceUnavailableError();
      const out = await aws("dynamo").send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...((out.Responses?.[table] ?? []) as T[]));
      pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return items;
}
