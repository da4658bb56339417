import { z } from "zod";
import { CHECK_SEVERITIES, CHECK_STATUSES, HIPAA_SECTIONS } from "./check";
import { SCORE_BANDS } from "./score";

/**
 * The compliance report's JSON, version 1 (documented in `docs/compliance-report.md`: keep them in
 * step). The schema is strict both ways: the generator parses what it built before signing it, and a
 * verifier parses what it reads, so a field nobody documented can neither leave nor come in.
 */
export const REPORT_SCHEMA = "coachvault.compliance-report";
export const REPORT_VERSION = 1;

const isoTime = z.iso.datetime({ offset: false });
const id = z.string().min(1).max(128);
const day = z.iso.date();
const evidenceValue = z.union([
  z.string().max(512),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string().max(128), z.number()])).max(100),
]);

export const CheckResultSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+$/),
    title: z.string().min(1).max(200),
    // Paragraphs as the CFR writes them, e.g. 164.308(a)(3)(ii)(C): letter, number, roman numeral, capital.
    hipaa: z.string().regex(/^164\.3(08|10|12|14|16)(\([a-z]\)(\(\d+\)(\([ivx]+\)(\([A-Z]\))?)?)?)?$/),
    section: z.enum(HIPAA_SECTIONS),
    layer: z.enum(["application", "infrastructure", "organizational"]),
    status: z.enum(CHECK_STATUSES),
    severity: z.enum(CHECK_SEVERITIES),
    weight: z.int().min(1).max(3),
    evidence: z.record(z.string().max(64), evidenceValue),
    remediation: z.string().min(1).max(1000).optional(),
    reason: z.string().min(1).max(1000).optional(),
  })
  .refine((check) => check.status !== "fail" || check.remediation, {
    message: "a failed check carries its remediation",
    path: ["remediation"],
  })
  .refine((check) => !["not_applicable", "not_evaluated"].includes(check.status) || check.reason, {
    message: "a check not applicable or not evaluated says why",
    path: ["reason"],
  })
  .refine((check) => check.status !== "pass" || Object.keys(check.evidence).length > 0, {
    message: "a passed check shows its evidence",
    path: ["evidence"],
  });
export type CheckResult = z.infer<typeof CheckResultSchema>;

const count = z.int().min(0);

export const ScoreSchema = z.strictObject({
  value: z.int().min(0).max(100),
  band: z.enum([...SCORE_BANDS.map((entry) => entry.band), "at_risk"]),
  counts: z.strictObject(
    Object.fromEntries(CHECK_STATUSES.map((status) => [status, count])) as Record<
      (typeof CHECK_STATUSES)[number],
      typeof count
    >,
  ),
  coverage: z.number().min(0).max(1),
});

/** What the charts draw, gathered while the checks run (counts and ids only). */
export const ActivitySchema = z.strictObject({
  /** Audited PHI accesses (successful entries that list PHI fields of the clients they name) per UTC day and role. */
  phiAccessesByDay: z.array(z.strictObject({ day, role: id, count })).max(10_000),
  /** Break-glass grants made in the period, and when (if) each was reviewed. */
  breakGlass: z
    .array(
      z.strictObject({
        grantId: id,
        grantedAt: isoTime,
        reviewedAt: isoTime.nullable(),
      }),
    )
    .max(1_000),
});
export type Activity = z.infer<typeof ActivitySchema>;

export const ReportBodySchema = z.strictObject({
  schema: z.literal(REPORT_SCHEMA),
  version: z.literal(REPORT_VERSION),
  reportId: id,
  orgId: id,
  generatedAt: isoTime,
  period: z.strictObject({ from: isoTime, to: isoTime }),
  score: ScoreSchema,
  previous: z.strictObject({ reportId: id, score: z.int().min(0).max(100) }).optional(),
  /** The last reports' scores, oldest first, this one last (at most 12). */
  history: z
    .array(z.strictObject({ reportId: id, generatedAt: isoTime, score: z.int().min(0).max(100) }))
    .min(1)
    .max(12),
  checks: z.array(CheckResultSchema).min(1),
  activity: ActivitySchema,
});
export type ReportBody = z.infer<typeof ReportBodySchema>;

/** The signed document: the body plus the SHA-256 of the HTML rendered from it. */
export const ReportSchema = ReportBodySchema.extend({
  html: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
});
export type Report = z.infer<typeof ReportSchema>;
