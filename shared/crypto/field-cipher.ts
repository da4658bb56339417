import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { DecryptionError } from "./errors";

/** What a ciphertext is bound to: moving it to another org, client, record, field or version fails. */
export type FieldBinding = {
  orgId: string;
  clientId: string;
  recordId: string;
  field: string;
  version: number;
};

const FORMAT = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function aadFor(binding: FieldBinding): Buffer {
  // JSON of a fixed key order: unambiguous even if an id contains a separator character.
  return Buffer.from(
    JSON.stringify([
      FORMAT,
      binding.orgId,
      binding.clientId,
      binding.recordId,
      binding.field,
      binding.version,
    ]),
  );
}

/** AES-256-GCM with a random 96-bit IV; output `v1.<base64url(iv | ciphertext | tag)>`. */
export function sealBytes(key: Buffer, plaintext: Buffer, binding: FieldBinding): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aadFor(binding));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${FORMAT}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url")}`;
}

export function openBytes(key: Buffer, sealed: string, binding: FieldBinding): Buffer {
  const [format, payload] = sealed.split(".");
  if (format !== FORMAT || !payload) throw new DecryptionError();
  const bytes = Buffer.from(payload, "base64url");
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new DecryptionError();
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aadFor(binding));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new DecryptionError();
  }
}

/** Fields are JSON values (strings, lists, address objects), sealed one by one. */
export function sealField(key: Buffer, value: unknown, binding: FieldBinding): string {
  return sealBytes(key, Buffer.from(JSON.stringify(value)), binding);
}

export function openField(key: Buffer, sealed: string, binding: FieldBinding): unknown {
  return JSON.parse(openBytes(key, sealed, binding).toString("utf8"));
}
