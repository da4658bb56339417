import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import canonicalize from "canonicalize";
import { aws } from "../aws";
import { ConfigError, getConfig, MAX_AUDIT_SHARDS } from "../config";
import { chainHead, chainId } from "./chain";
import { GENESIS_HASH } from "./entry";
import { requireWitnessAgreement } from "./witness";
import { witnessedChains } from "./witnessed";

/**
 * Signed checkpoints of an org's audit chains: every chain's head (sequence and hash), a Merkle root
 * over them, the hash of the previous checkpoint, signed with a KMS asymmetric key (ECDSA P-256) and
 * written to the checkpoint bucket (Object Lock, compliance mode, in the cloud). A checkpoint pins
 * the chains: rewriting a chain's tail consistently, or cutting it short, no longer matches. A chain
 * that contradicts a head the live witness saw is never checkpointed (`witness.ts`).
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
  // The witness's heads first: it records only entries already stored, so none can be ahead of a chain read after.
  const witnessed = await witnessedChains(
    Array.from({ length: shards }, (_, shard) => chainId(orgId, shard)),
  );
  const current = await Promise.all(Array.from({ length: shards }, (_, shard) => head(orgId, shard)));
  const seen = witnessed.flatMap(({ chain, seq, hash }) =>
    seq !== undefined && seq >= 1 ? [{ chain, seq, hash: String(hash) }] : [],
  );
  await requireWitnessAgreement(orgId, seen, current);
  // A chain the witness found broken is pinned at the last head it saw before the break, never above:
  // whatever sits on top of a break is not vouched for, and every verification from here reads the break.
  const broken = new Map(witnessed.filter((record) => record.broken).map((record) => [record.chain, record]));
  const heads = current.map((head): ChainHead => {
    const record = broken.get(head.chain);
    return record ? { chain: head.chain, seq: record.seq ?? 0, hash: record.hash ?? GENESIS_HASH } : head;
  });
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
  // KMS signs a RAW message of at most 4 KB, and a checkpoint of an org with many chains is larger: it is
  // given the message's SHA-256 instead, which makes the same ECDSA-SHA256 signature over the same bytes.
  const signed = await aws("kms").send(
    new SignCommand({
      KeyId: config.signingKeyId,
      Message: createHash("sha256").update(canonical(checkpoint)).digest(),
      MessageType: "DIGEST",
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
  problem: "replaced" | "deleted" | "signature" | "link" | "merkle" | "head-mismatch" | "truncated";
  chain?: string;
};

/** One checkpoint object as the versioned bucket lists it: its latest version, and how many it has. */
export type CheckpointObject = {
  key: string;
  number: number;
  /** The version read and reported ("null" where the bucket keeps no versions, as S3 names those). */
  versionId: string;
  /** Versions and delete markers under the key: a checkpoint is written once, so more than one means it was replaced. */
  versions: number;
  /** The latest version is a delete marker: the checkpoint was removed from the listing. */
  deleted: boolean;
};

type Listed = { Key?: string; VersionId?: string; IsLatest?: boolean };

/**
 * The org's checkpoint objects after `afterKey` (all of them without it), oldest first, with their
 * versions (ListObjectVersions pages, following a key whose versions span two pages).
 */
export async function* checkpointObjects(orgId: string, afterKey?: string): AsyncGenerator<CheckpointObject> {
  const { bucket } = checkpointSettings();
  let current: CheckpointObject | undefined;
  let keyMarker = afterKey;
  let versionIdMarker: string | undefined;
  do {
    const out = await aws("s3").send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: `${orgId}/checkpoints/`,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    const listed = [
      ...(out.Versions ?? []).map((version: Listed) => ({ ...version, marker: false })),
      ...(out.DeleteMarkers ?? []).map((marker: Listed) => ({ ...marker, marker: true })),
    ].sort((a, b) => (String(a.Key) < String(b.Key) ? -1 : String(a.Key) > String(b.Key) ? 1 : 0));
    for (const version of listed) {
      const key = String(version.Key);
      if (current && current.key !== key) {
        yield current;
        current = undefined;
      }
      current ??= { key, number: numberOf(key), versionId: "null", versions: 0, deleted: false };
      current.versions++;
      if (version.IsLatest) {
        current.versionId = version.VersionId ?? "null";
        current.deleted = version.marker;
      }
    }
    keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
    versionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
  } while (keyMarker);
  if (current) yield current;
}

/** The checkpoint in exactly the version listed (not whatever is latest by the time it is read); undefined if it is not one. */
export async function readCheckpointVersion(object: CheckpointObject): Promise<SignedCheckpoint | undefined> {
  const { bucket } = checkpointSettings();
  const out = await aws("s3").send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: object.key,
      ...(object.versionId !== "null" && { VersionId: object.versionId }),
    }),
  );
  try {
    const signed = JSON.parse(await (out.Body?.transformToString() ?? "")) as SignedCheckpoint;
    return signed?.checkpoint && Array.isArray(signed.checkpoint.heads) ? signed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The keys checkpoints may be signed with, by ARN: the configured one, and the retired ones the
 * configuration still names (a replaced signing key keeps its older checkpoints verifying). Never the key
 * a checkpoint names: a checkpoint naming any other key fails its signature check.
 */
export type SigningKeys = ReadonlyMap<string, KeyObject>;

export async function configuredSigningKeys(): Promise<SigningKeys> {
  const { signingKeyId, KMS_AUDIT_RETIRED_SIGNING_KEY_IDS } = checkpointSettings();
  const keys = await Promise.all(
    [signingKeyId, ...KMS_AUDIT_RETIRED_SIGNING_KEY_IDS].map(async (keyId) => {
      const out = await aws("kms").send(new GetPublicKeyCommand({ KeyId: keyId }));
      const publicKey = createPublicKey({
        key: Buffer.from(out.PublicKey ?? []),
        format: "der",
        type: "spki",
      });
      return [out.KeyId ?? keyId, publicKey] as const;
    }),
  );
  return new Map(keys);
}

/** The checkpoint that precedes the next one in a run: its number and hash. */
export type PreviousCheckpoint = { number: number; hash: string };

/**
 * Checks one checkpoint of a run on its own and against the one before: a single version of its object,
 * a configured key named and its signature valid under it, the org, its number and link (for the first
 * of a run only when the run starts at genesis), and its Merkle root. Its pinned heads are checked against
 * the chains by the verifier as it reads them.
 */
export function checkpointProblem(
  orgId: string,
  object: CheckpointObject,
  signed: SignedCheckpoint | undefined,
  keys: SigningKeys,
  previous: PreviousCheckpoint | undefined,
  fromGenesis: boolean,
): CheckpointProblem | undefined {
  const at = { checkpoint: object.number };
  if (object.deleted) return { ...at, problem: "deleted" };
  if (object.versions > 1) return { ...at, problem: "replaced" };
  if (!signed) return { ...at, problem: "signature" };
  const { checkpoint } = signed;
  const key = keys.get(String(signed.keyId));
  const genuine =
    key !== undefined &&
    verify(
      "sha256",
      Buffer.from(canonical(checkpoint)),
      key,
      Buffer.from(String(signed.signature), "base64"),
    );
  if (!genuine || checkpoint.orgId !== orgId) return { ...at, problem: "signature" };
  const expectedLink = previous ? previous.hash : fromGenesis ? GENESIS_HASH : checkpoint.previous;
  const expectedNumber = previous ? previous.number + 1 : fromGenesis ? 1 : checkpoint.number;
  const misplaced = checkpoint.number !== expectedNumber || checkpoint.number !== object.number;
  if (checkpoint.previous !== expectedLink || misplaced) return { ...at, problem: "link" };
  if (merkleRoot(checkpoint.heads) !== checkpoint.merkleRoot) return { ...at, problem: "merkle" };
  return undefined;
}
