import { QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";

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
