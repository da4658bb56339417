import { PutObjectCommand } from "@aws-sdk/client-s3";
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  appendWithItems,
  auditEntry,
  canonicalEntry,
  chainHash,
  chainId,
  listCheckpoints,
  readOrgChains,
  type StoredEntry,
  verifyChains,
  verifyCheckpoints,
  writeCheckpoint,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { testStack } from "../support/stack";

/** Signed checkpoints catch what the chains alone cannot: a consistently rewritten or truncated tail, a forged checkpoint. */
testStack();
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };

async function append(orgId: string, count: number) {
  const principal = { userId: "checkpoint-user", orgId, role: "coach" as const };
  for (let i = 0; i < count; i++) {
    await appendWithItems(
      auditEntry(principal, { ...meta, requestId: `r${i}` }, "client.read", { type: "client", id: `c${i}` }, [
        "name",
      ]),
    );
  }
}

async function check(orgId: string) {
  const chains = await readOrgChains(orgId);
  const ids = chains.map((_, shard) => chainId(orgId, shard));
  const chainProblem = verifyChains(chains, ids).find((r) => r.problem)?.problem;
  const pinned = await verifyCheckpoints(orgId, new Map(ids.map((id, shard) => [id, chains[shard] ?? []])));
  return { chainProblem, checkpoints: pinned.checkpoints, checkpointProblem: pinned.problem };
}

const longest = async (orgId: string) =>
  (await readOrgChains(orgId)).sort((a, b) => b.length - a.length)[0] as StoredEntry[];
const put = (item: StoredEntry) =>
  aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_AUDIT, Item: item }));

describe("signed checkpoints", () => {
  it("chain to each other and verify, with a Merkle root over every chain head", async () => {
    await append("cp-ok", 10);
    const first = await writeCheckpoint("cp-ok");
    await append("cp-ok", 5);
    const second = await writeCheckpoint("cp-ok");
    expect(second.checkpoint.number).toBe(first.checkpoint.number + 1);
    expect(second.checkpoint.heads).toHaveLength(getConfig().AUDIT_SHARDS);
    expect(await check("cp-ok")).toEqual({
      chainProblem: undefined,
      checkpoints: 2,
      checkpointProblem: undefined,
    });
  });

  it("catch a chain tail rewritten consistently (every hash recomputed)", async () => {
    await append("cp-rewrite", 12);
    await writeCheckpoint("cp-rewrite");
    const chain = await longest("cp-rewrite");
    let previous = (chain[0] as StoredEntry).hash;
    for (const entry of chain.slice(1)) {
      const forged = JSON.parse(entry.entry);
      forged.action = "client.list";
      const text = canonicalEntry(forged);
      const hash = chainHash(previous, entry.seq, text);
      await put({ ...entry, prevHash: previous, entry: text, hash });
      previous = hash;
    }
    const result = await check("cp-rewrite");
    expect(result.chainProblem).toBeUndefined(); // the chain alone looks fine …
    expect(result.checkpointProblem).toMatchObject({ problem: "head-mismatch", chain: chain[0]?.pk }); // … the checkpoint does not
  });

  it("catch a truncated tail", async () => {
    await append("cp-truncate", 12);
    await writeCheckpoint("cp-truncate");
    const chain = await longest("cp-truncate");
    const last = chain.at(-1) as StoredEntry;
    await aws("dynamo").send(
      new DeleteCommand({ TableName: getConfig().TABLE_AUDIT, Key: { pk: last.pk, seq: last.seq } }),
    );
    expect((await check("cp-truncate")).checkpointProblem).toMatchObject({
      problem: "truncated",
      chain: last.pk,
    });
  });

  it("catch a forged checkpoint", async () => {
    await append("cp-forge", 6);
    await writeCheckpoint("cp-forge");
    const [signed] = await listCheckpoints("cp-forge");
    const forged = { ...signed, checkpoint: { ...signed?.checkpoint, time: "2020-01-01T00:00:00.000Z" } };
    await aws("s3").send(
      new PutObjectCommand({
        Bucket: getConfig().BUCKET_CHECKPOINTS,
        Key: "cp-forge/checkpoints/000000000001.json",
        Body: Buffer.from(JSON.stringify(forged)),
      }),
    );
    expect((await check("cp-forge")).checkpointProblem).toMatchObject({
      checkpoint: 1,
      problem: "signature",
    });
  });
});
