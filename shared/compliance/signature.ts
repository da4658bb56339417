import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import canonicalize from "canonicalize";
import * as z from "zod";
import { aws } from "../aws";
import { ConfigError, getConfig } from "../config";

/**
 * A report's signature: KMS `Sign` with the audit signing key (ECDSA P-256, `ECDSA_SHA_256`) over the
 * report's canonical JSON (RFC 8785). A report is larger than the 4 KB KMS signs as a RAW message, so KMS
 * is given its SHA-256 (`MessageType: DIGEST`): the signature is exactly ECDSA-SHA256 over the canonical
 * bytes, which any ECDSA P-256 verifier checks with the key's public half (KMS `GetPublicKey`, SPKI DER).
 * The `.sig` document carries it with the key that made it and the digest it covers.
 */
export const SIGNATURE_SCHEMA = "coachvault.compliance-report.signature";
export const ReportSignatureSchema = z.strictObject({
  schema: z.literal(SIGNATURE_SCHEMA),
  version: z.literal(1),
  reportId: z.string().min(1).max(128),
  algorithm: z.literal("ECDSA_SHA_256"),
  /** The KMS key (ARN) that signed: a verifier trusts only the keys it is configured with, never this one blindly. */
  keyId: z.string().min(1).max(2048),
  /** SHA-256 (hex) of the canonical JSON: the message the signature covers. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The DER-encoded ECDSA signature, base64. */
  signature: z.string().min(1).max(200),
});
export type ReportSignature = z.infer<typeof ReportSignatureSchema>;

export const sha256Hex = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

/** RFC 8785 canonical JSON text: what is signed, stored and hashed. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("report is not serializable");
  return text;
}

function signingKeyId(): string {
  const keyId = getConfig().KMS_AUDIT_SIGNING_KEY_ID;
  if (!keyId) throw new ConfigError("Invalid or missing settings: KMS_AUDIT_SIGNING_KEY_ID");
  return keyId;
}

/** Signs a report's canonical JSON with the audit signing key. */
export async function signReport(reportId: string, canonical: string): Promise<ReportSignature> {
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
    schema: SIGNATURE_SCHEMA,
    version: 1,
    reportId,
    algorithm: "ECDSA_SHA_256",
    keyId: out.KeyId ?? keyId,
    sha256: digest.toString("hex"),
    signature: Buffer.from(out.Signature ?? []).toString("base64"),
  };
}

/**
 * The public keys reports may be signed with, by ARN: the configured signing key and the retired ones the
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

export type VerificationProblem =
  | "signature-document"
  | "not-canonical"
  | "untrusted-key"
  | "digest"
  | "signature"
  | "html"
  | "other-report";

/**
 * Checks a report's documents as stored: the signature document names a trusted key and the report's id,
 * its signature verifies over the JSON's canonical text, and the HTML is the one whose SHA-256 the JSON
 * holds. The JSON must be stored as its canonical text, byte for byte (as the pipeline stores it): a reader
 * then reads exactly the bytes that were signed, never a reformatted or duplicate-keyed variant. A genuine
 * report is still the wrong one when it is not the report expected (another org's, or an older one filed
 * under this one's name).
 */
export function verifyReportDocuments(
  documents: { json: string; html: Buffer; sig: string },
  /** The trusted public key of a signing key id, if it is trusted. */
  trusted: (keyId: string) => KeyObject | undefined,
  expected: { reportId?: string; orgId?: string } = {},
): VerificationProblem | undefined {
  let signed: ReportSignature;
  let report: { reportId?: unknown; orgId?: unknown; html?: { sha256?: unknown } };
  let canonical: string;
  try {
    signed = ReportSignatureSchema.parse(JSON.parse(documents.sig));
    report = JSON.parse(documents.json);
    canonical = canonicalJson(report);
  } catch {
    return "signature-document";
  }
  if (documents.json !== canonical) return "not-canonical";
  const key = trusted(signed.keyId);
  if (!key) return "untrusted-key";
  if (signed.reportId !== report.reportId || signed.sha256 !== sha256Hex(canonical)) return "digest";
  const genuine = verify("sha256", Buffer.from(canonical), key, Buffer.from(signed.signature, "base64"));
  if (!genuine) return "signature";
  if (report.html?.sha256 !== sha256Hex(documents.html)) return "html";
  if (
    (expected.reportId !== undefined && report.reportId !== expected.reportId) ||
    (expected.orgId !== undefined && report.orgId !== expected.orgId)
  )
    return "other-report";
  return undefined;
}
