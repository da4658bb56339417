import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DecryptCommand, GenerateDataKeyCommand } from "@aws-sdk/client-kms";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ServiceUnavailableError } from "../errors";

/**
 * A key the whole deployment shares for one purpose (sealing list cursors, keying idempotency digests):
 * an AES-256 data key that KMS makes under encryption context `{ purpose }` (never a client's
 * `{orgId, clientId}`, so the IAM permission for one purpose can never open another's or a client's).
 * Its wrapped copy is kept in one keys-table item; the first function that needs it creates it with a
 * conditional put, and one that loses that race reads the winner's. Each function instance unwraps it
 * once and keeps it in memory.
 */
export type DeploymentKey = { context: { purpose: string }; item: { pk: string } };

const pending = new Map<string, Promise<Buffer>>();

async function readWrapped(key: DeploymentKey): Promise<string | undefined> {
  const out = await aws("dynamo").send(
    new GetCommand({ TableName: getConfig().TABLE_KEYS, Key: key.item, ConsistentRead: true }),
  );
  const wrapped = out.Item?.wrappedKey;
  return typeof wrapped === "string" ? wrapped : undefined;
}

async function unwrap(key: DeploymentKey, wrapped: string): Promise<Buffer> {
  const out = await aws("kms").send(
    new DecryptCommand({
      CiphertextBlob: Buffer.from(wrapped, "base64"),
      KeyId: getConfig().KMS_DATA_KEY_ID,
      EncryptionContext: key.context,
    }),
  );
  if (!out.Plaintext) throw new ServiceUnavailableError();
  return Buffer.from(out.Plaintext);
}

async function loadOrCreate(key: DeploymentKey): Promise<Buffer> {
  const stored = await readWrapped(key);
  if (stored) return unwrap(key, stored);
  const made = await aws("kms").send(
    new GenerateDataKeyCommand({
      KeyId: getConfig().KMS_DATA_KEY_ID,
      KeySpec: "AES_256",
      EncryptionContext: key.context,
    }),
  );
  if (!made.Plaintext || !made.CiphertextBlob) throw new ServiceUnavailableError();
  try {
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_KEYS,
        Item: {
          ...key.item,
          wrappedKey: Buffer.from(made.CiphertextBlob).toString("base64"),
          kmsKeyId: made.KeyId,
          createdAt: new Date().toISOString(),
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return Buffer.from(made.Plaintext);
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // Another instance created it first: everyone uses the one that was stored.
    const winner = await readWrapped(key);
    if (!winner) throw new ServiceUnavailableError();
    return unwrap(key, winner);
  }
}

/** The deployment's key for a purpose (a copy the caller may hold); a failure is not cached, the next call tries again. */
export async function deploymentKey(key: DeploymentKey): Promise<Buffer> {
  let loading = pending.get(key.item.pk);
  if (!loading) {
    loading = loadOrCreate(key).catch((error: unknown) => {
      pending.delete(key.item.pk);
      throw error;
    });
    pending.set(key.item.pk, loading);
  }
  return Buffer.from(await loading);
}

/** Forgets an unwrapped key (tests; a process that must re-read it). */
export function forgetDeploymentKey(key: DeploymentKey): void {
  pending.delete(key.item.pk);
}
