import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import canonicalize from "canonicalize";
import * as z from "zod";
import { aws } from "../aws";
import { ConfigError, getConfig } from "../config";

/**
 * Signed documents (compliance reports, certificates of destruction, research export manifests): KMS `Sign`
 * with the audit signing key (ECDSA P-256, `ECDSA_SHA_256`) over the document's canonical JSON (RFC 8785).
 * A document may be larger than the 4 KB KMS signs as a RAW message, so KMS is given its SHA-256
 * (`MessageType: DIGEST`): the signature is exactly ECDSA-SHA256 over the canonical bytes, which any ECDSA
 * P-256 verifier checks with the key's public half (KMS `GetPublicKey`, SPKI DER).
 */
export const SignatureFields = {
  algorithm: z.literal("ECDSA_SHA_256"),
  /** The KMS key (ARN) that signed: a verifier trusts only the keys it is configured with, never this one blindly. */
  keyId: z.string().min(1).max(2048),
  /** SHA-256 (hex) of the canonical JSON: the message the signature covers. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The DER-encoded ECDSA signature, base64. */
  signature: z.string().min(1).max(200),
};
const DocumentSignatureSchema = z.object(SignatureFields);
export type DocumentSignature = z.infer<typeof DocumentSignatureSchema>;

export const sha256Hex = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

/** RFC 8785 canonical JSON text: what is signed, stored and hashed. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("document is not serializable");
  return text;
}

function signingKeyId(): string {
  const keyId = getConfig().KMS_AUDIT_SIGNING_KEY_ID;
  if (!keyId) throw new ConfigError("Invalid or missing settings: KMS_AUDIT_SIGNING_KEY_ID");
  return keyId;
}

/** Signs a document's canonical JSON text with the audit signing key. */
export async function signCanonical(canonical: string): Promise<DocumentSignature> {
  const digest = createHash("sha256").update(canonical).digest();
  const keyId = signingKeyId();
  const out = await aws("kms").send(
    new SignCommand({
      KeyId: keyId,
      Message: digest,
      MessageType: "DIGEST",
      SigningAlgorithm: "ECDSA_SHA_256",
    }),
  );
  return {
    algorithm: "ECDSA_SHA_256",
    keyId: out.KeyId ?? keyId,
    sha256: digest.toString("hex"),
    signature: Buffer.from(out.Signature ?? []).toString("base64"),
  };
}

/**
 * The public keys documents may be signed with, by ARN: the configured signing key and the retired ones the
 * configuration still names (as for checkpoints).
 */
export async function trustedSigningKeys(): Promise<ReadonlyMap<string, KeyObject>> {
  const config = getConfig();
  const keys = await Promise.all(
    [signingKeyId(), ...config.KMS_AUDIT_RETIRED_SIGNING_KEY_IDS].map(async (keyId) => {
      const out = await aws("kms").send(new GetPublicKeyCommand({ KeyId: keyId }));
      const key = createPublicKey({ key: Buffer.from(out.PublicKey ?? []), format: "der", type: "spki" });
      return [out.KeyId ?? keyId, key] as const;
    }),
  );
  return new Map(keys);
}

export type SignatureProblem = "not-canonical" | "untrusted-key" | "digest" | "signature";

/**
 * Checks a signed document as stored: it must be its own canonical text byte for byte (a reader then reads
 * exactly the bytes that were signed, never a reformatted or duplicate-keyed variant), signed by a trusted
 * key, over this digest.
 */
export function verifyCanonical(
  text: string,
  signed: DocumentSignature,
  /** The trusted public key of a signing key id, if it is trusted. */
  trusted: (keyId: string) => KeyObject | undefined,
): SignatureProblem | undefined {
  let canonical: string;
  try {
    canonical = canonicalJson(JSON.parse(text));
  } catch {
    return "not-canonical";
  }
  if (text !== canonical) return "not-canonical";
  const key = trusted(signed.keyId);
  if (!key) return "untrusted-key";
  if (signed.sha256 !== sha256Hex(canonical)) return "digest";
  const genuine = verify("sha256", Buffer.from(canonical), key, Buffer.from(signed.signature, "base64"));
  return genuine ? undefined : "signature";
}
