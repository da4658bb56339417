import { execFileSync } from "node:child_process";
import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  appendWithItems,
  auditEntry,
  canonicalEntry,
  chainHash,
  queryDisclosures,
  readOrgChains,
  type StoredEntry,
  verifyOrg,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { testStack } from "../support/stack";

/**
 * Tamper tests against DynamoDB Local: someone with write access to the audit table alters the trail;
 * the verifier names the first bad entry. (A tail rewritten consistently, a truncated tail and a forged
 * checkpoint are caught by the signed checkpoints: audit-checkpoints.test.ts.)
 */
const stack = testStack();
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };

async function seededOrg(orgId: string, count = 12): Promise<StoredEntry[]> {
  const principal = { userId: "tamper-user", orgId, role: "coach" as const };
  for (let i = 0; i < count; i++) {
    await appendWithItems(
      auditEntry(principal, { ...meta, requestId: `r${i}` }, "client.read", { type: "client", id: `c${i}` }, [
        "name",
      ]),
    );
  }
  // The longest of the org's chains, so every tamper has entries around it.
  return (await readOrgChains(orgId)).sort((a, b) => b.length - a.length)[0] as StoredEntry[];
}

const put = (item: StoredEntry) =>
  aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_AUDIT, Item: item }));
const remove = (item: StoredEntry) =>
  aws("dynamo").send(
    new DeleteCommand({ TableName: getConfig().TABLE_AUDIT, Key: { pk: item.pk, seq: item.seq } }),
  );

const firstProblem = async (orgId: string) => (await verifyOrg(orgId)).entryProblem;

describe("tampering with the audit trail", () => {
  it("an intact org verifies", async () => {
    await seededOrg("tamper-none");
    expect(await firstProblem("tamper-none")).toBeUndefined();
  });

  it("catches a modified field", async () => {
    const chain = await seededOrg("tamper-modify");
    const victim = chain[2] as StoredEntry;
    await put({ ...victim, entry: victim.entry.replace('"client.read"', '"client.list"') });
    expect(await firstProblem("tamper-modify")).toMatchObject({ seq: victim.seq, problem: "hash" });
  });

  it("catches a deleted entry", async () => {
    const chain = await seededOrg("tamper-delete");
    await remove(chain[1] as StoredEntry);
    expect(await firstProblem("tamper-delete")).toMatchObject({
      seq: (chain[2] as StoredEntry).seq,
      problem: "gap",
    });
  });

  it("catches two entries swapped", async () => {
    const chain = await seededOrg("tamper-swap");
    const [a, b] = [chain[1] as StoredEntry, chain[2] as StoredEntry];
    await put({ ...a, seq: b.seq });
    await put({ ...b, seq: a.seq });
    expect(await firstProblem("tamper-swap")).toMatchObject({ seq: a.seq });
  });

  it("catches an inserted entry, even one hashed correctly onto its predecessor", async () => {
    const chain = await seededOrg("tamper-insert");
    const before = chain[1] as StoredEntry;
    const forged = JSON.parse(before.entry);
    forged.action = "client.update";
    const text = canonicalEntry(forged);
    // Shift the tail up by one and put the forgery in the gap, with a valid hash for its own position.
    for (const entry of [...chain.slice(2)].reverse()) await put({ ...entry, seq: entry.seq + 1 });
    await put({
      pk: before.pk,
      seq: before.seq + 1,
      prevHash: before.hash,
      hash: chainHash(before.hash, before.seq + 1, text),
      entry: text,
    });
    expect(await firstProblem("tamper-insert")).toMatchObject({ seq: before.seq + 2 });
  });

  it("catches a disclosure pointer removed or re-aimed, which would hide an access from a client's accounting", async () => {
    const principal = { userId: "tamper-user", orgId: "tamper-index", role: "coach" as const };
    for (let i = 0; i < 6; i++) {
      await appendWithItems(
        auditEntry(
          principal,
          { ...meta, requestId: `r${i}` },
          "client.read",
          { type: "client", id: `client-${i}`, clientId: `client-${i}` },
          ["name"],
          { relationship: "assigned", breakGlass: false },
        ),
      );
    }
    expect(await verifyOrg("tamper-index")).toMatchObject({ intact: true });
    const records = getConfig().TABLE_RECORDS;
    const partition = "ORG#tamper-index#DISCLOSED#client-2";
    const [pointer] = (
      await aws("dynamo").send(
        new QueryCommand({
          TableName: records,
          KeyConditionExpression: "pk = :p",
          ExpressionAttributeValues: { ":p": partition },
        }),
      )
    ).Items as { pk: string; sk: string; chain: string; seq: number }[];
    if (!pointer) throw new Error("no pointer was written");
    const problem = {
      chain: pointer.chain,
      seq: pointer.seq,
      clientId: "client-2",
      problem: "missing-disclosure",
    };

    await aws("dynamo").send(
      new DeleteCommand({ TableName: records, Key: { pk: pointer.pk, sk: pointer.sk } }),
    );
    expect(await verifyOrg("tamper-index")).toMatchObject({ intact: false, indexProblem: problem });
    await aws("dynamo").send(
      new PutCommand({ TableName: records, Item: { ...pointer, seq: pointer.seq + 100 } }),
    );
    expect(await verifyOrg("tamper-index")).toMatchObject({ intact: false, indexProblem: problem });
    await aws("dynamo").send(new PutCommand({ TableName: records, Item: pointer }));
    expect(await verifyOrg("tamper-index")).toMatchObject({ intact: true });
  });

  describe("catches an index attribute that no longer matches its entry (the hash does not cover them)", () => {
    type Item = StoredEntry & Record<string, unknown>;
    const cases: [string, string, (item: Item) => Item][] = [
      // "entries by user X" no longer finds it …
      [
        "actor",
        "re-keyed to another user",
        (item) => ({ ...item, actor: "ORG#tamper-attr-actor#USER#someone-else" }),
      ],
      // … or drops it altogether: the byActor index is sparse.
      ["actor", "removed", ({ actor: _, ...item }) => item as Item],
      ["org", "moved to another org's index", (item) => ({ ...item, org: "ORG#other" })],
      ["action", "relabelled", (item) => ({ ...item, action: "client.list" })],
      ["time", "backdated", (item) => ({ ...item, time: "2020-01-01T00:00:00.000Z" })],
      ["at", "moved in the time order", (item) => ({ ...item, at: `2020-01-01T00:00:00.000Z#${item.pk}#x` })],
      ["planted", "an attribute no entry implies", (item) => ({ ...item, planted: "ORG#x#USER#y" })],
    ];
    it.each(cases)("%s: %s", async (attribute, how, alter) => {
      const orgId = `tamper-attr-${attribute}-${how.split(" ")[0]}`;
      const chain = await seededOrg(orgId, 6);
      const victim = chain[3] as Item;
      expect(await verifyOrg(orgId)).toMatchObject({ intact: true });
      await put(alter(victim));
      const result = await verifyOrg(orgId);
      expect(result.entryProblem).toBeUndefined(); // the chain itself still verifies …
      expect(result).toMatchObject({
        intact: false, // … its index does not
        indexProblem: { chain: victim.pk, seq: victim.seq, problem: "index-attribute", attribute },
      });
    });
  });

  it("a compliance query flags a row whose text no longer matches its hash", async () => {
    const principal = { userId: "tamper-user", orgId: "tamper-rows", role: "coach" as const };
    await appendWithItems(
      auditEntry(principal, meta, "client.read", { type: "client", id: "k", clientId: "client-k" }, ["name"]),
    );
    const before = await queryDisclosures("tamper-rows", "client-k", { limit: 10 });
    expect(before.items.map((row) => row.hashValid)).toEqual([true]);
    const [stored] = (await readOrgChains("tamper-rows")).flat();
    if (!stored) throw new Error("no entry was written");
    await put({ ...stored, entry: stored.entry.replace('"name"', '"phone"') });
    const after = await queryDisclosures("tamper-rows", "client-k", { limit: 10 });
    expect(after.items).toMatchObject([{ hashValid: false, entry: { fields: ["phone"] } }]);
  });

  it("npm run audit:verify exits 0 when intact and 1 naming the first bad entry", () => {
    const run = (org: string) => {
      try {
        return {
          code: 0,
          out: execFileSync("npx", ["tsx", "infra/local/audit-verify.ts", "--dir", stack.dir, "--org", org], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
          }),
        };
      } catch (error) {
        const failed = error as { status: number; stdout: string };
        return { code: failed.status, out: failed.stdout };
      }
    };
    const intact = run("tamper-none");
    expect(intact.code).toBe(0);
    expect(intact.out).toContain("intact");
    const broken = run("tamper-modify");
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/NOT intact: first bad entry ORG#tamper-modify#SHARD#\d+ #\d+ \(hash\)/);
  });
});
