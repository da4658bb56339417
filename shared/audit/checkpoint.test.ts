import { generateKeyPairSync, sign } from "node:crypto";
import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import {
  type Checkpoint,
  type CheckpointObject,
  checkpointProblem,
  merkleRoot,
  type SignedCheckpoint,
} from "./checkpoint";
import { GENESIS_HASH } from "./entry";

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const keyArn = "arn:aws:kms:us-east-1:000000000000:key/configured";
const heads = [{ chain: "ORG#o1#SHARD#0", seq: 3, hash: "a".repeat(64) }];
const checkpoint: Checkpoint = {
  v: 1,
  orgId: "o1",
  number: 1,
  time: "2026-01-01T00:00:00.000Z",
  heads,
  merkleRoot: merkleRoot(heads),
  previous: GENESIS_HASH,
};
const signed: SignedCheckpoint = {
  checkpoint,
  signature: sign("sha256", Buffer.from(canonicalize(checkpoint) as string), privateKey).toString("base64"),
  keyId: keyArn,
};
const object: CheckpointObject = {
  key: "o1/checkpoints/000000000001.json",
  number: 1,
  versionId: "v1",
  versions: 1,
  deleted: false,
};
const check = (changes: Partial<CheckpointObject>, content: SignedCheckpoint | undefined = signed) =>
  checkpointProblem(
    "o1",
    { ...object, ...changes },
    content,
    new Map([[keyArn, publicKey]]),
    undefined,
    true,
  );

describe("a checkpoint object", () => {
  it("written once, signed with the configured key, checks out", () => {
    expect(check({})).toBeUndefined();
  });

  it("with more than one version was replaced: the version read is not the one first written", () => {
    expect(check({ versions: 2 })).toEqual({ checkpoint: 1, problem: "replaced" });
  });

  it("whose latest version is a delete marker was removed from the listing", () => {
    expect(check({ versions: 2, deleted: true })).toEqual({ checkpoint: 1, problem: "deleted" });
  });

  it("naming another key is refused even when the signature is valid", () => {
    expect(check({}, { ...signed, keyId: "arn:aws:kms:us-east-1:000000000000:key/other" })).toEqual({
      checkpoint: 1,
      problem: "signature",
    });
  });

  it("that is not a checkpoint at all, or sits under another number's key, is named", () => {
    const unreadable = checkpointProblem(
      "o1",
      object,
      undefined,
      new Map([[keyArn, publicKey]]),
      undefined,
      true,
    );
    expect(unreadable).toEqual({ checkpoint: 1, problem: "signature" });
    expect(check({ number: 2, key: "o1/checkpoints/000000000002.json" })).toEqual({
      checkpoint: 2,
      problem: "link",
    });
  });
});
