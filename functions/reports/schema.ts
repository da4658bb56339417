import * as z from "zod";
import { CHECK_STATUSES } from "../../shared/compliance";

export const ReportIdPathSchema = z.strictObject({ reportId: z.uuid() });

export const ListReportsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(50).optional(),
  cursor: z.string().max(2048).optional(),
});

const count = z.int().min(0);
/** A report as the list shows it: its index row, never its documents. */
export const ReportSummarySchema = z.strictObject({
  reportId: z.uuid(),
  status: z.enum(["pending", "done", "failed"]),
  trigger: z.enum(["on_demand", "schedule"]),
  requestedAt: z.iso.datetime(),
  generatedAt: z.iso.datetime().optional(),
  period: z.strictObject({ from: z.iso.datetime(), to: z.iso.datetime() }).optional(),
  score: z.int().min(0).max(100).optional(),
  band: z.string().optional(),
  counts: z
    .strictObject(
      Object.fromEntries(CHECK_STATUSES.map((status) => [status, count])) as Record<
        (typeof CHECK_STATUSES)[number],
        typeof count
      >,
    )
    .optional(),
  coverage: z.number().min(0).max(1).optional(),
  /** SHA-256 of the signed JSON (what the `report.generated` audit entry names), once done. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Why the last run failed (an error code), while it is failed. */
  failure: z.string().optional(),
});
export type ReportSummary = z.infer<typeof ReportSummarySchema>;

export const ReportListSchema = z.object({
  items: z.array(ReportSummarySchema),
  nextCursor: z.string().optional(),
});

export const ReportAcceptedSchema = z.strictObject({ reportId: z.uuid(), status: z.literal("pending") });

/** The headers `GET /reports/{reportId}` carries the signature in (the `.sig` document, field by field). */
export const SIGNATURE_HEADERS = {
  signature: "X-Report-Signature",
  algorithm: "X-Report-Signature-Algorithm",
  keyId: "X-Report-Signing-Key",
  sha256: "X-Report-Sha256",
} as const;

/** The HTML report's Content-Security-Policy: nothing external may load (its styles are inline, its charts SVG). */
export const REPORT_HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
