import { describe, expect, it } from "vitest";
import {
  appendWithItems,
  auditEntry,
  readOrgChains,
  type StoredEntry,
  verifyChain,
} from "../../shared/audit";
import { testStack } from "../support/stack";

/** The audit chains in DynamoDB Local: concurrent appends never fork or leave gaps. */
testStack();

const principal = { userId: "audit-test-user", orgId: "chain-test", role: "coach" as const };
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };

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

  it("the verifier finds an altered entry and a removed one", async () => {
    const chain = (await readOrgChains(principal.orgId)).sort(
      (a, b) => b.length - a.length,
    )[0] as StoredEntry[];
    expect(chain.length).toBeGreaterThan(3);
    const altered = chain.map((entry) => ({ ...entry }));
    (altered[2] as StoredEntry).entry = (altered[2] as StoredEntry).entry.replace(
      "test.append",
      "test.appenx",
    );
    expect(verifyChain(altered)).toMatchObject({ seq: 3, problem: "hash" });
    expect(verifyChain(chain.filter((entry) => entry.seq !== 2))).toMatchObject({ seq: 3, problem: "gap" });
  });
});
