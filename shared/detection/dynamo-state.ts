import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { queryAll } from "../store";
import { type DetectorState, SET_CAP, type StateKey, type StateRecord } from "./state";

/**
 * The detectors' state in the security table: one item per set (`pk` = the org's `#DETECT` partition,
 * `sk` = the set's key), members in a DynamoDB string set grown with `ADD` (adding a member twice is one
 * member: a retried batch changes nothing), expiring by TTL (`expiresAt`). A set stops growing at
 * `SET_CAP` (a condition on its size), far below DynamoDB's item size limit.
 */
const table = () => getConfig().TABLE_SECURITY;
const asSet = (value: unknown): ReadonlySet<string> =>
  value instanceof Set ? (value as Set<string>) : new Set();

export class DynamoState implements DetectorState {
  async add(at: StateKey, members: readonly string[], expiresAt: number): Promise<ReadonlySet<string>> {
    if (members.length === 0) return this.members(at);
    try {
      const out = await aws("dynamo").send(
        new UpdateCommand({
          TableName: table(),
          Key: { pk: at.partition, sk: at.key },
          UpdateExpression: "ADD #members :members SET #expiresAt = :expiresAt",
          ConditionExpression: "attribute_not_exists(#members) OR size(#members) < :cap",
          ExpressionAttributeNames: { "#members": "members", "#expiresAt": "expiresAt" },
          ExpressionAttributeValues: {
            ":members": new Set(members),
            ":expiresAt": expiresAt,
            ":cap": SET_CAP,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return asSet(out.Attributes?.members);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.members(at);
      throw error;
    }
  }

  async members(at: StateKey): Promise<ReadonlySet<string>> {
    const out = await aws("dynamo").send(
      new GetCommand({ TableName: table(), Key: { pk: at.partition, sk: at.key }, ConsistentRead: true }),
    );
    return asSet(out.Item?.members);
  }

  async range(partition: string, from: string, to: string) {
    const items = await queryAll<{ sk: string; members?: unknown }>({
      TableName: table(),
      KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: { ":pk": partition, ":from": from, ":to": to },
      ProjectionExpression: "sk, #members",
      ExpressionAttributeNames: { "#members": "members" },
    });
    return items.map((item) => ({ key: item.sk, members: asSet(item.members) }));
  }

  async get(at: StateKey): Promise<StateRecord | undefined> {
    const out = await aws("dynamo").send(
      new GetCommand({ TableName: table(), Key: { pk: at.partition, sk: at.key }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, ...record } = out.Item;
    return record as StateRecord;
  }

  async put(at: StateKey, record: StateRecord, expiresAt: number): Promise<void> {
    await aws("dynamo").send(
      new PutCommand({ TableName: table(), Item: { ...record, pk: at.partition, sk: at.key, expiresAt } }),
    );
  }
}
