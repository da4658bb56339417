import { DecryptCommand, GenerateDataKeyCommand } from "@aws-sdk/client-kms";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ServiceUnavailableError } from "../errors";
import { DataKeyUnavailableError } from "./errors";
import { KeyCache } from "./key-cache";

/**
 * Per-client data keys (envelope encryption). KMS makes each key under encryption context
 * {orgId, clientId}; only the wrapped copy is stored, in the keys table. Deleting that item
 * crypto-shreds every field and transcript of the client.
 */
export type ClientKeyRef = { orgId: string; clientId: string };

let cache: KeyCache | undefined;
function keyCache(): KeyCache {
  const config = getConfig();
  cache ??= new KeyCache(config.DATA_KEY_CACHE_SECONDS * 1000, config.DATA_KEY_CACHE_MAX_ENTRIES);
  return cache;
}

const cacheId = (ref: ClientKeyRef) => `${ref.orgId}/${ref.clientId}`;
export const dataKeyItemKey = (ref: ClientKeyRef) => ({ pk: `ORG#${ref.orgId}#CLIENT#${ref.clientId}` });
const encryptionContext = (ref: ClientKeyRef) => ({ orgId: ref.orgId, clientId: ref.clientId });

/** A new key for a new client: the plaintext to use now, and the item to write in the same transaction. */
export async function generateDataKey(
  ref: ClientKeyRef,
): Promise<{ key: Buffer; item: Record<string, unknown> }> {
  const config = getConfig();
  const out = await aws("kms").send(
    new GenerateDataKeyCommand({
      KeyId: config.KMS_DATA_KEY_ID,
      KeySpec: "AES_256",
      EncryptionContext: encryptionContext(ref),
    }),
  );
  if (!out.Plaintext || !out.CiphertextBlob) throw new DataKeyUnavailableError();
  const key = Buffer.from(out.Plaintext);
  return {
    key,
    item: {
      ...dataKeyItemKey(ref),
      wrappedKey: Buffer.from(out.CiphertextBlob).toString("base64"),
      kmsKeyId: out.KeyId,
      createdAt: new Date().toISOString(),
    },
  };
}

/** Call once the transaction that stored the wrapped key has committed. */
export function rememberDataKey(ref: ClientKeyRef, key: Buffer): void {
  keyCache().set(cacheId(ref), key);
}

export async function getDataKey(ref: ClientKeyRef): Promise<Buffer> {
  const cached = keyCache().get(cacheId(ref));
  if (cached) return cached;
  const config = getConfig();
  const stored = await aws("dynamo").send(
    new GetCommand({ TableName: config.TABLE_KEYS, Key: dataKeyItemKey(ref), ConsistentRead: true }),
  );
  const wrapped = stored.Item?.wrappedKey;
  if (typeof wrapped !== "string") throw new DataKeyUnavailableError();
  let plaintext: Uint8Array | undefined;
  try {
    const out = await aws("kms").send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(wrapped, "base64"),
        KeyId: config.KMS_DATA_KEY_ID,
        EncryptionContext: encryptionContext(ref),
      }),
    );
    plaintext = out.Plaintext;
  } catch (error) {
    // A throttled or unreachable KMS stays what it is (retryable); a refusal means the key is unusable.
    if (error instanceof ServiceUnavailableError) throw error;
    throw new DataKeyUnavailableError({ cause: error });
  }
  if (!plaintext) throw new DataKeyUnavailableError();
  const key = Buffer.from(plaintext);
  keyCache().set(cacheId(ref), key);
  return key;
}

/** Drops every cached plaintext key (tests, and the crypto-shredding path). */
export function forgetDataKey(ref: ClientKeyRef): void {
  keyCache().delete(cacheId(ref));
}
