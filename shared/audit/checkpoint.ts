import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import canonicalize from "canonicalize";
import { aws } from "../aws";
import { ConfigError, getConfig, MAX_AUDIT_SHARDS } from "../config";
import { chainHead, chainId } from "./chain";
import { GENESIS_HASH } from "./entry";
import type { StoredEntry } from "./verify";

/**
 * Signed checkpoints of an org's audit chains: every chain's head (sequence and hash), a Merkle root
 * over them, the hash of the previous checkpoint, signed with a KMS asymmetric key (ECDSA P-256) and
 * written to the checkpoint bucket (Object Lock, compliance mode, in the cloud). A checkpoint pins
 * the chains: rewriting a chain's tail consistently, or cutting it short, no longer matches.
 */
export type ChainHead = { chain: string; seq: number; hash: string };
export type Checkpoint = {
  v: 1;
  orgId: string;
  number: number;
  time: string;
  heads: ChainHead[];
  merkleRoot: string;
  previous: string;
};
export type SignedCheckpoint = { checkpoint: Checkpoint; signature: string; keyId: string };

/** The checkpoint settings, which only checkpoint code needs (functions serving requests run without them). */
function checkpointSettings() {
  const config = getConfig();
  if (!config.KMS_AUDIT_SIGNING_KEY_ID || !config.BUCKET_CHECKPOINTS) {
    throw new ConfigError("Invalid or missing settings: KMS_AUDIT_SIGNING_KEY_ID, BUCKET_CHECKPOINTS");
  }
  return { ...config, signingKeyId: config.KMS_AUDIT_SIGNING_KEY_ID, bucket: config.BUCKET_CHECKPOINTS };
}

/**
 * The chains a checkpoint pins and a verification reads: the configured shards, and never fewer than a
 * checkpoint already pinned, so lowering AUDIT_SHARDS cannot drop a chain out of sight.
 */
export const shardsToCover = (run: readonly SignedCheckpoint[]) =>
  Math.min(
    MAX_AUDIT_SHARDS, // checkpoints are read before their signatures are checked: a forged one must not set the work
    Math.max(getConfig().AUDIT_SHARDS, ...run.map((signed) => signed.checkpoint.heads.length)),
  );

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const canonical = (value: unknown) => canonicalize(value) as string;

export function merkleRoot(heads: readonly ChainHead[]): string {
  let level = heads.map((head) => sha256(`leaf\n${head.chain}\n${head.seq}\n${head.hash}`));
  if (level.length === 0) return GENESIS_HASH;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(sha256(`node\n${level[i]}\n${level[i + 1] ?? level[i]}`));
    level = next;
  }
  return level[0] as string;
}

export const checkpointHash = (checkpoint: Checkpoint) => sha256(canonical(checkpoint));
const objectKey = (orgId: string, number: number) =>
  `${orgId}/checkpoints/${String(number).padStart(12, "0")}.json`;

async function head(orgId: string, shard: number): Promise<ChainHead> {
  const chain = chainId(orgId, shard);
  return { chain, ...(await chainHead(chain)) };
}

const numberOf = (key: string) => Number(key.slice(key.lastIndexOf("/") + 1, -".json".length));

/** The object keys of the org's checkpoints, oldest first (zero-padded numbers sort as text). */
async function checkpointKeys(orgId: string): Promise<string[]> {
  const { bucket } = checkpointSettings();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await aws("s3").send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${orgId}/checkpoints/`, ContinuationToken: token }),
    );
    keys.push(...(out.Contents ?? []).map((object) => object.Key as string));
    token = out.NextContinuationToken;
  } while (token);
  return keys.sort();
}

async function readCheckpoint(key: string): Promise<SignedCheckpoint> {
  const { bucket } = checkpointSettings();
  const object = await aws("s3").send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await (object.Body?.transformToString() ?? "{}")) as SignedCheckpoint;
}

/**
 * The org's checkpoints from number `from` (or only the newest) on, in order. One listing; only the
 * checkpoints asked for are fetched.
 */
export async function listCheckpoints(
  orgId: string,
  from: number | "latest" = 1,
): Promise<SignedCheckpoint[]> {
  const keys = await checkpointKeys(orgId);
  const wanted = from === "latest" ? keys.slice(-1) : keys.filter((key) => numberOf(key) >= from);
  return Promise.all(wanted.map(readCheckpoint));
}

/** Builds, signs and stores the org's next checkpoint. */
export async function writeCheckpoint(orgId: string, now = new Date()): Promise<SignedCheckpoint> {
  return (await nextCheckpoint(orgId, now, false)) as SignedCheckpoint;
}

/** The scheduled run: a checkpoint only for an org whose chains moved since its last one (a quiet org is already pinned). */
export function checkpointIfChanged(orgId: string, now = new Date()): Promise<SignedCheckpoint | undefined> {
  return nextCheckpoint(orgId, now, true);
}

async function nextCheckpoint(
  orgId: string,
  now: Date,
  onlyIfChanged: boolean,
): Promise<SignedCheckpoint | undefined> {
  const config = checkpointSettings();
  const last = (await checkpointKeys(orgId)).at(-1);
  const previous = last ? await readCheckpoint(last) : undefined;
  const shards = shardsToCover(previous ? [previous] : []);
  const heads = await Promise.all(Array.from({ length: shards }, (_, shard) => head(orgId, shard)));
  const root = merkleRoot(heads);
  if (onlyIfChanged && root === (previous?.checkpoint.merkleRoot ?? merkleRoot([]))) return undefined;
  const checkpoint: Checkpoint = {
    v: 1,
    orgId,
    number: (previous?.checkpoint.number ?? 0) + 1,
    time: now.toISOString(),
    heads,
    merkleRoot: root,
    previous: previous ? checkpointHash(previous.checkpoint) : GENESIS_HASH,
  };
  const signed = await aws("kms").send(
    new SignCommand({
      KeyId: config.signingKeyId,
      Message: Buffer.from(canonical(checkpoint)),
      MessageType: "RAW",
      SigningAlgorithm: "ECDSA_SHA_256",
    }),
  );
  const body: SignedCheckpoint = {
    checkpoint,
    signature: Buffer.from(signed.Signature ?? []).toString("base64"),
    keyId: signed.KeyId ?? config.signingKeyId,
  };
  const retainUntil = new Date(now.getTime() + config.CHECKPOINT_RETENTION_DAYS * 86_400_000);
  await aws("s3").send(
    new PutObjectCommand({
      Bucket: config.bucket,
      Key: objectKey(orgId, checkpoint.number),
      Body: Buffer.from(JSON.stringify(body)),
      ContentType: "application/json",
      ObjectLockMode: "COMPLIANCE",
      ObjectLockRetainUntilDate: retainUntil,
    }),
  );
  return body;
}

export type CheckpointProblem = {
  checkpoint: number;
  problem: "signature" | "link" | "merkle" | "head-mismatch" | "truncated";
  chain?: string;
};

/** Entries of one chain from sequence `first` on (all of it from genesis, or from a checkpoint's head). */
export type ChainSpan = { first: number; entries: readonly StoredEntry[] };

/**
 * Checks a run of consecutive checkpoints against each other and against the chains: every signature
 * (with the key's public half from KMS), every link to the previous checkpoint (the first one's only
 * when the run starts at genesis), every Merkle root, and that each chain still holds, at each
 * checkpointed sequence, exactly the checkpointed hash. Returns the first problem, or undefined.
 */
export async function verifyCheckpointRun(
  orgId: string,
  run: readonly SignedCheckpoint[],
  chains: ReadonlyMap<string, ChainSpan>,
  fromGenesis: boolean,
): Promise<CheckpointProblem | undefined> {
  const keys = new Map<string, KeyObject>();
  let previous: Checkpoint | undefined;
  for (const signed of run) {
    const { checkpoint } = signed;
    const at = { checkpoint: checkpoint.number };
    const key = keys.get(signed.keyId) ?? (await publicKey(signed.keyId));
    keys.set(signed.keyId, key);
    const genuine = verify(
      "sha256",
      Buffer.from(canonical(checkpoint)),
      key,
      Buffer.from(signed.signature, "base64"),
    );
    if (!genuine || checkpoint.orgId !== orgId) return { ...at, problem: "signature" };
    const expectedLink = previous
      ? checkpointHash(previous)
      : fromGenesis
        ? GENESIS_HASH
        : checkpoint.previous;
    const expectedNumber = previous ? previous.number + 1 : fromGenesis ? 1 : checkpoint.number;
    if (checkpoint.previous !== expectedLink || checkpoint.number !== expectedNumber)
      return { ...at, problem: "link" };
    if (merkleRoot(checkpoint.heads) !== checkpoint.merkleRoot) return { ...at, problem: "merkle" };
    for (const pinned of checkpoint.heads) {
      const span = chains.get(pinned.chain);
      if (pinned.seq === 0 || !span || pinned.seq < span.first) continue;
      const entry = span.entries[pinned.seq - span.first];
      if (!entry || Number(entry.seq) !== pinned.seq)
        return { ...at, problem: "truncated", chain: pinned.chain };
      if (entry.hash !== pinned.hash) return { ...at, problem: "head-mismatch", chain: pinned.chain };
    }
    previous = checkpoint;
  }
  return undefined;
}

async function publicKey(keyId: string): Promise<KeyObject> {
  const out = await aws("kms").send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(out.PublicKey ?? []), format: "der", type: "spki" });
}
