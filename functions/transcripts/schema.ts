import * as z from "zod";
import type { PhiFields } from "../../shared/audit/disclosure";

/** Transcripts are text, up to 1 MB (UTF-8) per request; see the README for larger uploads. */
export const MAX_TRANSCRIPT_BYTES = 1_000_000;

export const UploadTranscriptSchema = z.strictObject({
  text: z
    .string()
    .min(1)
    .refine((text) => Buffer.byteLength(text) <= MAX_TRANSCRIPT_BYTES, {
      params: { rule: "max_bytes:1000000" },
      message: "too large",
    }),
});

export const TranscriptSchema = z.object({
  sessionId: z.uuid(),
  version: z.number().int(),
  redacted: z.boolean(),
  text: z.string(),
  phiSummary: z.record(z.string(), z.number()),
});

/** A read discloses the full or the redacted copy; an upload writes both. */
export const TRANSCRIPT_PHI: PhiFields = {
  fields: { text: (record) => (record.redacted ? "transcript:redacted" : "transcript:full") },
};
export const TRANSCRIPT_WRITES: PhiFields = { fields: { text: ["transcript:full", "transcript:redacted"] } };
