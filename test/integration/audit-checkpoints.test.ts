import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { run as checkpointJob } from "../../functions/audit/checkpoint.job";
import {
  type AppendedEntry,
  appendWithItems,
  auditEntry,
  ChainWriter,
  canonicalEntry,
  chainHash,
  chainId,
  readOrgChains,
  type StoredEntry,
  type VerifyFrom,
  verifyOrg,
  writeCheckpoint,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig, resetConfig } from "../../shared/config";
import { listOrgs } from "../../shared/people";
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

async function check(orgId: string, from: VerifyFrom = "genesis") {
  const result = await verifyOrg(orgId, from);
  return {
    chainProblem: result.entryProblem,
    checkpoints: result.checkpoints,
    checkpointProblem: result.checkpointProblem,
  };
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
    const signed = await writeCheckpoint("cp-forge");
    const forged = { ...signed, checkpoint: { ...signed.checkpoint, time: "2020-01-01T00:00:00.000Z" } };
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

  it("catch a checkpoint signed with another key, even one that verifies under the key it names", async () => {
    await append("cp-key", 4);
    await writeCheckpoint("cp-key");
    await append("cp-key", 2);
    // A forger with a signing key of their own: the checkpoint links, pins the real heads and verifies under
    // the key it names. Only the key the verifier is configured with (never the checkpoint's) may sign.
    const forger = await aws("kms").send(
      new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }),
    );
    const configured = process.env.KMS_AUDIT_SIGNING_KEY_ID;
    process.env.KMS_AUDIT_SIGNING_KEY_ID = forger.KeyMetadata?.Arn;
    resetConfig();
    try {
      expect((await writeCheckpoint("cp-key")).keyId).toBe(forger.KeyMetadata?.Arn);
    } finally {
      process.env.KMS_AUDIT_SIGNING_KEY_ID = configured;
      resetConfig();
    }
    const result = await verifyOrg("cp-key");
    expect(result.entryProblem).toBeUndefined();
    expect(result.checkpointProblem).toEqual({ checkpoint: 2, problem: "signature" });
    // Each checkpoint's object version is recorded (s3rver keeps no versions: S3 calls those "null").
    expect(result.checkpointVersions).toEqual([
      { number: 1, versionId: "null" },
      { number: 2, versionId: "null" },
    ]);
    // Had that key been ours before, retired by configuration, its checkpoints would still verify.
    process.env.KMS_AUDIT_RETIRED_SIGNING_KEY_IDS = forger.KeyMetadata?.Arn;
    resetConfig();
    try {
      expect(await verifyOrg("cp-key")).toMatchObject({ intact: true, checkpoints: 2 });
    } finally {
      delete process.env.KMS_AUDIT_RETIRED_SIGNING_KEY_IDS;
      resetConfig();
    }
  });

  it("verify from a checkpoint: only the entries after its pinned heads are read, and tampering there is caught", async () => {
    await append("cp-from", 16);
    await writeCheckpoint("cp-from");
    await append("cp-from", 8);
    const second = await writeCheckpoint("cp-from");
    await append("cp-from", 4);
    const fromGenesis = await verifyOrg("cp-from");
    const fromLatest = await verifyOrg("cp-from", "latest");
    expect(fromGenesis).toMatchObject({ intact: true, entries: 28, checkpoints: 2, fromCheckpoint: 0 });
    // Each chain is read from its pinned head on: the pinned entry itself plus the 4 appended since.
    const pinnedChains = second.checkpoint.heads.filter((head) => head.seq > 0).length;
    expect(fromLatest).toMatchObject({ intact: true, fromCheckpoint: 2, checkpoints: 1 });
    expect(fromLatest.entries).toBe(pinnedChains + 4);

    const chain = await longest("cp-from");
    const victim = chain.at(-1) as StoredEntry;
    await put({ ...victim, entry: victim.entry.replace('"client.read"', '"client.list"') });
    expect((await verifyOrg("cp-from", 2)).entryProblem).toMatchObject({ chain: victim.pk, seq: victim.seq });
  });

  it("from a checkpoint, catch the pinned entry itself rewritten", async () => {
    await append("cp-pinned", 8);
    const signed = await writeCheckpoint("cp-pinned");
    const head = signed.checkpoint.heads.find((h) => h.seq > 0) as { chain: string; seq: number };
    const chain = (await readOrgChains("cp-pinned")).find((c) => c[0]?.pk === head.chain) as StoredEntry[];
    const pinned = chain.at(-1) as StoredEntry;
    const forged = JSON.parse(pinned.entry);
    forged.actor.id = "someone-else";
    const text = canonicalEntry(forged);
    await put({ ...pinned, entry: text, hash: chainHash(pinned.prevHash, pinned.seq, text) });
    const result = await verifyOrg("cp-pinned", "latest");
    expect(result.entryProblem).toBeUndefined(); // consistent on its own …
    expect(result.checkpointProblem).toMatchObject({
      checkpoint: 1,
      problem: "head-mismatch",
      chain: head.chain,
    });
  });

  it("catch a checkpoint removed from the series, and refuse to start from one that does not exist", async () => {
    await append("cp-gap", 4);
    await writeCheckpoint("cp-gap");
    await writeCheckpoint("cp-gap");
    await writeCheckpoint("cp-gap");
    await aws("s3").send(
      new DeleteObjectCommand({
        Bucket: getConfig().BUCKET_CHECKPOINTS,
        Key: "cp-gap/checkpoints/000000000002.json",
      }),
    );
    expect((await check("cp-gap")).checkpointProblem).toMatchObject({ checkpoint: 3, problem: "link" });
    await expect(verifyOrg("cp-gap", 9)).rejects.toMatchObject({ code: "CHECKPOINT_NOT_FOUND" });
  });

  it("lowering AUDIT_SHARDS does not drop a checkpointed chain out of checkpoints or verification", async () => {
    const principal = { userId: "checkpoint-user", orgId: "cp-shrink", role: "coach" as const };
    process.env.AUDIT_SHARDS = "4";
    resetConfig();
    try {
      // Fresh writers (as fresh instances) pick random shards: append until one lands beyond shard 0.
      let outside: AppendedEntry | undefined;
      for (let i = 0; !outside; i++) {
        const appended = await new ChainWriter().append(
          auditEntry(
            principal,
            { ...meta, requestId: `r${i}` },
            "client.read",
            { type: "client", id: "c" },
            [],
          ),
        );
        if (appended.chain !== chainId("cp-shrink", 0)) outside = appended;
      }
      await writeCheckpoint("cp-shrink");
      process.env.AUDIT_SHARDS = "1";
      resetConfig();
      await append("cp-shrink", 1);
      expect((await writeCheckpoint("cp-shrink")).checkpoint.heads).toHaveLength(4);
      const key = { pk: outside.chain, seq: outside.seq };
      const { Item } = await aws("dynamo").send(
        new GetCommand({ TableName: getConfig().TABLE_AUDIT, Key: key }),
      );
      const victim = Item as StoredEntry;
      await put({ ...victim, entry: victim.entry.replace('"client.read"', '"client.list"') });
      expect((await verifyOrg("cp-shrink")).entryProblem).toMatchObject({
        chain: outside.chain,
        seq: outside.seq,
      });
      expect((await verifyOrg("cp-shrink", "latest")).intact).toBe(false);
    } finally {
      delete process.env.AUDIT_SHARDS;
      resetConfig();
    }
  });

  it("the scheduled job checkpoints every registered org whose chains moved, and skips quiet ones", async () => {
    const registered = await listOrgs();
    // The seeded orgs, demo and other, and any org another suite bootstrapped.
    expect(registered).toEqual(expect.arrayContaining(["demo", "other"]));
    const first = await checkpointJob();
    expect(first.orgs).toBe(registered.length);
    expect(await checkpointJob()).toEqual({ orgs: registered.length, written: 0 });
    await append("demo", 1);
    expect(await checkpointJob()).toEqual({ orgs: registered.length, written: 1 });
    expect(await verifyOrg("demo", "latest")).toMatchObject({ intact: true, checkpoints: 1 });
  });
});
