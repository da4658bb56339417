import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  appendWithItems,
  auditEntry,
  ChainWriter,
  readOrgChains,
  type StoredEntry,
  verifyChain,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { resetConfig } from "../../shared/config";
import { testStack } from "../support/stack";

/** The audit chains in DynamoDB Local: concurrent appends never fork or leave gaps. */
testStack();

const principal = { userId: "audit-test-user", orgId: "chain-test", role: "coach" as const };
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };
const entryIn = (orgId: string, i: number) =>
  auditEntry(
    { ...principal, orgId },
    { ...meta, requestId: `r${i}` },
    "test.append",
    { type: "test", id: String(i) },
    [],
  );

afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.AUDIT_SHARDS;
  resetConfig();
});

describe("audit chains", () => {
  it("48 concurrent appends make unbroken chains across the org's shards", async () => {
    const results = await Promise.all(
      Array.from({ length: 48 }, (_, i) =>
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
    const chains = await readOrgChains(principal.orgId);
    expect(chains.flat()).toHaveLength(48);
    expect(new Set(results.map((r) => `${r.chain}/${r.seq}`)).size).toBe(48);
    for (const chain of chains) {
      expect(chain.map((entry) => entry.seq)).toEqual(chain.map((_, i) => i + 1));
      expect(verifyChain(chain)).toBeUndefined();
    }
  });

  it("a writer keeps to one chain and reads its head only once", async () => {
    const writer = new ChainWriter();
    const send = vi.spyOn(aws("dynamo"), "send");
    const appended = [];
    for (let i = 0; i < 6; i++) appended.push(await writer.append(entryIn("chain-sticky", i)));
    expect(new Set(appended.map((entry) => entry.chain)).size).toBe(1);
    expect(appended.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(send.mock.calls.filter(([command]) => command instanceof QueryCommand)).toHaveLength(1);
  });

  it("a writer forgets the least recently used org beyond its limit, and reads that org's head again", async () => {
    const writer = new ChainWriter(2);
    const send = vi.spyOn(aws("dynamo"), "send");
    const headReads = () => send.mock.calls.filter(([command]) => command instanceof QueryCommand).length;
    for (const orgId of ["chain-lru-a", "chain-lru-b", "chain-lru-a", "chain-lru-b"]) {
      await writer.append(entryIn(orgId, 1));
    }
    expect(headReads()).toBe(2);
    await writer.append(entryIn("chain-lru-c", 1)); // a third org: "a", least recently used, is forgotten
    await writer.append(entryIn("chain-lru-b", 2));
    expect(headReads()).toBe(3);
    await writer.append(entryIn("chain-lru-a", 2));
    expect(headReads()).toBe(4);
  });

  it("a writer whose remembered head went stale appends after the other writer's entry", async () => {
    process.env.AUDIT_SHARDS = "1";
    resetConfig();
    const [first, second] = [new ChainWriter(), new ChainWriter()];
    await first.append(entryIn("chain-stale", 1));
    await second.append(entryIn("chain-stale", 2));
    // `first` still remembers sequence 1 as the head: its transaction fails, and it re-reads.
    expect(await first.append(entryIn("chain-stale", 3))).toMatchObject({ seq: 3 });
    const [chain] = await readOrgChains("chain-stale");
    expect(chain?.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(verifyChain(chain ?? [])).toBeUndefined();
  });

  it("the verifier finds an altered entry and a removed one", async () => {
    const [chain] = (await readOrgChains("chain-sticky")).filter((entries) => entries.length > 0) as [
      StoredEntry[],
    ];
    expect(chain).toHaveLength(6);
    const altered = chain.map((entry) => ({ ...entry }));
    (altered[2] as StoredEntry).entry = (altered[2] as StoredEntry).entry.replace(
      "test.append",
      "test.appenx",
    );
    expect(verifyChain(altered)).toMatchObject({ seq: 3, problem: "hash" });
    expect(verifyChain(chain.filter((entry) => entry.seq !== 2))).toMatchObject({ seq: 3, problem: "gap" });
  });
});
