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

/** Items a list returns per page: what the caller asked for, at most `LIST_PAGE_MAX`. */
export function pageSize(asked: number | undefined): number {
  const max = getConfig().LIST_PAGE_MAX;
  return Math.min(asked ?? max, max);
}

/** Reads grow from one page's worth up to this, when most items are not kept. */
const MAX_READ_BATCH = 500;

/**
 * One full page of a query's items that `keep` accepts: DynamoDB is asked again until `limit` items are
 * kept or the query ends, so a page is short only at the end of the list, however few of the items the
 * caller may see. `keep` gets each batch in order and gives, per item, its value or `undefined` to skip
 * it. `last` (when more may follow) is the raw item behind the last value returned, so a cursor made from
 * it points at an item the caller was shown, never at one they were not.
 */
export async function filledPage<R extends Record<string, unknown>, V>(
  input: Omit<QueryCommandInput, "Limit">,
  limit: number,
  keep: (batch: R[]) => Promise<readonly (V | undefined)[]> | readonly (V | undefined)[],
): Promise<{ items: V[]; last?: R }> {
  const kept: { raw: R; value: V }[] = [];
  let start = input.ExclusiveStartKey;
  let more = true;
  for (let batch = limit; kept.length < limit && more; batch = Math.min(batch * 2, MAX_READ_BATCH)) {
    const out = await aws("dynamo").send(
      new QueryCommand({ ...input, ExclusiveStartKey: start, Limit: batch }),
    );
    const raw = (out.Items ?? []) as R[];
    const values = await keep(raw);
    raw.forEach((item, index) => {
      const value = values[index];
      if (value !== undefined) kept.push({ raw: item, value });
    });
    start = out.LastEvaluatedKey;
    more = Boolean(start);
  }
  const page = kept.slice(0, limit);
  const last = kept.length > limit || more ? page.at(-1)?.raw : undefined;
  return { items: page.map(({ value }) => value), ...(last && { last }) };
}

/**
 * Every record of an org (in the records table, or `table`) whose sort key starts with `prefix`
 * (`SESSION#<clientId>#`, `USER#` in the directory …).
 */
export function recordsWithPrefix<T>(
  orgId: string,
  prefix: string,
  table = getConfig().TABLE_RECORDS,
): Promise<T[]> {
  return queryAll<T>({
    TableName: table,
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
