import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { VersionConflictError } from "../errors";

/** One item of the records table (or `table`) by its key (strongly consistent), or undefined. */
export async function getRecord<T>(
  key: { pk: string; sk: string },
  table = getConfig().TABLE_RECORDS,
): Promise<T | undefined> {
  const out = await aws("dynamo").send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
  return out.Item as T | undefined;
}

/**
 * A put of a new version of a record (of the records table, or `table`), refused (409) if someone else
 * wrote it since `expected`.
 */
export function versionedPut(
  item: Record<string, unknown>,
  expected: number,
  table = getConfig().TABLE_RECORDS,
) {
  return {
    item: {
      Put: {
        TableName: table,
        Item: item,
        ConditionExpression: "#v = :expected",
        ExpressionAttributeNames: { "#v": "version" },
        ExpressionAttributeValues: { ":expected": expected },
      },
    },
    onConditionFailed: () => new VersionConflictError(),
  };
}
