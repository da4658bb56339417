import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CHECK_SEVERITIES, CHECK_STATUSES, HIPAA_SECTIONS } from "./check";
import { REPORT_SCHEMA, REPORT_VERSION, ReportSchema } from "./report";
import { SCORE_BANDS, SEVERITY_POINTS } from "./score";

/**
 * `docs/compliance-report.md` is the report's contract with auditors and their scripts: it must describe
 * exactly the fields the schema ships (no more, no fewer, with the same optionality), every status,
 * severity with its points, and band with its threshold.
 */
const doc = readFileSync(new URL("../../docs/compliance-report.md", import.meta.url), "utf8");

/** Every field of the schema as a dotted path (`checks[].id`), with whether it may be absent. */
function fieldsOf(schema: z.ZodType, prefix = "", optional = false): Map<string, boolean> {
  if (schema instanceof z.ZodOptional) return fieldsOf(schema.unwrap() as z.ZodType, prefix, true);
  if (schema instanceof z.ZodNullable) return fieldsOf(schema.unwrap() as z.ZodType, prefix, optional);
  if (schema instanceof z.ZodArray) return fieldsOf(schema.element as z.ZodType, `${prefix}[]`);
  const fields = new Map<string, boolean>();
  if (schema instanceof z.ZodObject) {
    for (const [key, value] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const path = prefix ? `${prefix}.${key}` : key;
      fields.set(path, value instanceof z.ZodOptional);
      for (const [nested, nestedOptional] of fieldsOf(value, path)) fields.set(nested, nestedOptional);
    }
  }
  return fields;
}

/** The rows of the doc's field tables: `| \`path\` | type | yes/no | meaning |`. */
function documentedFields(): Map<string, boolean> {
  const rows = [...doc.matchAll(/^\| `([^`]+)` \| .+? \| (yes|no) \| .+ \|$/gm)];
  return new Map(rows.map((row) => [row[1] as string, row[2] === "no"]));
}

const rowOf = (key: string) => doc.split("\n").find((line) => line.startsWith(`| \`${key}\` |`)) ?? "";

describe("docs/compliance-report.md", () => {
  it("documents exactly the schema's fields, each with its optionality", () => {
    const shipped = fieldsOf(ReportSchema);
    expect(shipped.size).toBeGreaterThan(40);
    expect(Object.fromEntries(documentedFields())).toEqual(Object.fromEntries(shipped));
  });

  it("names the schema and version it documents", () => {
    expect(doc).toContain(
      `## Version ${REPORT_VERSION} (current: \`schema: "${REPORT_SCHEMA}"\`, \`version: ${REPORT_VERSION}\`)`,
    );
  });

  it("documents every status, severity with its points, band with its threshold, and section", () => {
    for (const status of CHECK_STATUSES) expect(rowOf(status), status).not.toBe("");
    for (const severity of CHECK_SEVERITIES) {
      expect(rowOf(severity), severity).toBe(`| \`${severity}\` | ${SEVERITY_POINTS[severity]} |`);
    }
    for (const { band, min } of SCORE_BANDS)
      expect(rowOf(band), band).toMatch(new RegExp(`\\| .*≥ ${min} \\|$`));
    expect(rowOf("at_risk")).toContain(`below ${SCORE_BANDS[SCORE_BANDS.length - 1]?.min}`);
    for (const section of HIPAA_SECTIONS) expect(doc).toContain(`§${section}`);
    expect(doc).toContain("## Signature, storage and verification");
  });
});
