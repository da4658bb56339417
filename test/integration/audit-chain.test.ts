import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { appendWithItems, auditEntry, chainId, type StoredEntry, verifyChain } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { testStack } from "../support/stack";

/** The audit chain in DynamoDB Local: concurrent appends never fork or leave gaps. */
testStack();

const principal = { userId: "audit-test-user", orgId: "chain-test", role: "coach" as const };
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };

async function readChain(orgId: string): Promise<StoredEntry[]> {
  const items: StoredEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await aws("dynamo").send(
      new QueryCommand({
        TableName: getConfig().TABLE_AUDIT,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": chainId(orgId, 0) },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as StoredEntry[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

describe("audit chain", () => {
  it("32 concurrent appends make one unbroken chain", async () => {
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        appendWithItems(
          auditEntry(
            principal,
            { ...meta, requestId: `r${i}` },
            "test.append",
            { type: "test", id: String(i) },
            [],
          ),
        ),
      ),
    );
    expect(new Set(results.map((r) => r.seq)).size).toBe(32);
    const chain = await readChain(principal.orgId);
    expect(chain.map((entry) => entry.seq)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(verifyChain(chain)).toBeUndefined();
  });

  it("the verifier finds an altered entry", async () => {
    const chain = await readChain(principal.orgId);
    const altered = chain.map((entry) => ({ ...entry }));
    (altered[5] as StoredEntry).entry = (altered[5] as StoredEntry).entry.replace(
      "test.append",
      "test.appenx",
    );
    expect(verifyChain(altered)).toEqual({ chain: chainId(principal.orgId, 0), seq: 6, problem: "hash" });
    expect(verifyChain(chain.filter((entry) => entry.seq !== 3))).toMatchObject({ seq: 4, problem: "gap" });
  });
});
