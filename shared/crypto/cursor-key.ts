import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DecryptCommand, GenerateDataKeyCommand } from "@aws-sdk/client-kms";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";
import { ServiceUnavailableError } from "../errors";

/**
 * The key that seals list cursors: one per deployment, an AES-256 data key that KMS makes under
 * encryption context `{ purpose: "list-cursor" }` (never a client's `{orgId, clientId}`, so the IAM
 * permission for one can never open the other). Its wrapped copy is kept in the keys table; the first
 * function that needs it creates it with a conditional put, and one that loses that race reads the
 * winner's. Each function instance unwraps it once and keeps it in memory.
 */
export const CURSOR_KEY_CONTEXT = { purpose: "list-cursor" } as const;
export const CURSOR_KEY_ITEM = { pk: "DEPLOYMENT#LIST_CURSOR_KEY" } as const;

let pending: Promise<Buffer> | undefined;

async function readWrapped(): Promise<string | undefined> {
  const out = await aws("dynamo").send(
    new GetCommand({ TableName: getConfig().TABLE_KEYS, Key: CURSOR_KEY_ITEM, ConsistentRead: true }),
  );
  const wrapped = out.Item?.wrappedKey;
  return typeof wrapped === "string" ? wrapped : undefined;
}

async function unwrap(wrapped: string): Promise<Buffer> {
  const out = await aws("kms").send(
    new DecryptCommand({
      CiphertextBlob: Buffer.from(wrapped, "base64"),
      KeyId: getConfig().KMS_DATA_KEY_ID,
      EncryptionContext: CURSOR_KEY_CONTEXT,
    }),
  );
  if (!out.Plaintext) throw new ServiceUnavailableError();
  return Buffer.from(out.Plaintext);
}

async function loadOrCreate(): Promise<Buffer> {
  const stored = await readWrapped();
  if (stored) return unwrap(stored);
  const made = await aws("kms").send(
    new GenerateDataKeyCommand({
      KeyId: getConfig().KMS_DATA_KEY_ID,
      KeySpec: "AES_256",
      EncryptionContext: CURSOR_KEY_CONTEXT,
    }),
  );
  if (!made.Plaintext || !made.CiphertextBlob) throw new ServiceUnavailableError();
  try {
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_KEYS,
        Item: {
          ...CURSOR_KEY_ITEM,
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
    const winner = await readWrapped();
    if (!winner) throw new ServiceUnavailableError();
    return unwrap(winner);
  }
}

/** The deployment's cursor key (a copy the caller may hold); a failure is not cached, the next call tries again. */
export async function cursorKey(): Promise<Buffer> {
  pending ??= loadOrCreate().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return Buffer.from(await pending);
}

/** Forgets the unwrapped key (tests; a process that must re-read it). */
export function forgetCursorKey(): void {
  pending = undefined;
}
