import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { VersionConflictError } from "../errors";

/** One item of the records table by its key (strongly consistent), or undefined. */
export async function getRecord<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
  const out = await aws("dynamo").send(
    new GetCommand({ TableName: getConfig().TABLE_RECORDS, Key: key, ConsistentRead: true }),
  );
  return out.Item as T | undefined;
}

/** A put of a new version of a record, refused (409) if someone else wrote it since `expected`. */
export function versionedPut(item: Record<string, unknown>, expected: number) {
  return {
    item: {
      Put: {
        TableName: getConfig().TABLE_RECORDS,
        Item: item,
        ConditionExpression: "#v = :expected",
        ExpressionAttributeNames: { "#v": "version" },
        ExpressionAttributeValues: { ":expected": expected },
      },
    },
    onConditionFailed: () => new VersionConflictError(),
  };
}
