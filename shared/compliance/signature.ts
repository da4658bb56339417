import type { KeyObject } from "node:crypto";
import * as z from "zod";
import {
  canonicalJson,
  SignatureFields,
  type SignatureProblem,
  sha256Hex,
  signCanonical,
  verifyCanonical,
} from "../signing";

/**
 * A report's signature (`shared/signing`: ECDSA over the report's canonical JSON with the audit signing key).
 * The `.sig` document carries it with the report's id, the key that made it and the digest it covers.
 */
export const SIGNATURE_SCHEMA = "coachvault.compliance-report.signature";
export const ReportSignatureSchema = z.strictObject({
  schema: z.literal(SIGNATURE_SCHEMA),
  version: z.literal(1),
  reportId: z.string().min(1).max(128),
  ...SignatureFields,
});
export type ReportSignature = z.infer<typeof ReportSignatureSchema>;

/** Signs a report's canonical JSON with the audit signing key. */
export async function signReport(reportId: string, canonical: string): Promise<ReportSignature> {
  return { schema: SIGNATURE_SCHEMA, version: 1, reportId, ...(await signCanonical(canonical)) };
}

export type VerificationProblem = SignatureProblem | "signature-document" | "html" | "other-report";

/**
 * Checks a report's documents as stored: the signature document names a trusted key and the report's id,
 * its signature verifies over the JSON's canonical text (stored byte for byte as signed), and the HTML is
 * the one whose SHA-256 the JSON holds. A genuine report is still the wrong one when it is not the report
 * expected (another org's, or an older one filed under this one's name).
 */
export function verifyReportDocuments(
  documents: { json: string; html: Buffer; sig: string },
  /** The trusted public key of a signing key id, if it is trusted. */
  trusted: (keyId: string) => KeyObject | undefined,
  expected: { reportId?: string; orgId?: string } = {},
): VerificationProblem | undefined {
  let signed: ReportSignature;
  let report: { reportId?: unknown; orgId?: unknown; html?: { sha256?: unknown } };
  try {
    signed = ReportSignatureSchema.parse(JSON.parse(documents.sig));
    report = JSON.parse(documents.json);
    canonicalJson(report);
  } catch {
    return "signature-document";
  }
  const problem = verifyCanonical(documents.json, signed, trusted);
  if (problem) return problem;
  if (signed.reportId !== report.reportId) return "digest";
  if (report.html?.sha256 !== sha256Hex(documents.html)) return "html";
  if (
    (expected.reportId !== undefined && report.reportId !== expected.reportId) ||
    (expected.orgId !== undefined && report.orgId !== expected.orgId)
  )
    return "other-report";
  return undefined;
}
