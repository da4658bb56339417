import { describe, expect, it } from "vitest";
import { alertFor } from "./produce";
import type { Report } from "./report";
import type { ReportRow } from "./store";

const report = (score: number, failing: { id: string; severity: "critical" | "high" }[]): Report =>
  ({
    orgId: "demo",
    reportId: "r2",
    score: { value: score },
    checks: failing.map((check) => ({ ...check, status: "fail" })),
  }) as unknown as Report;
const previous = (score: number, statuses: Record<string, "pass" | "fail">) =>
  ({ reportId: "r1", score, statuses }) as unknown as ReportRow;

describe("what a report notifies", () => {
  it("a drop of 5 or more from the previous report, and nothing less", () => {
    expect(alertFor(report(85, []), previous(90, {}))).toMatchObject({
      scoreDrop: 5,
      previousReportId: "r1",
    });
    expect(alertFor(report(86, []), previous(90, {}))).toBeUndefined();
    expect(alertFor(report(95, []), previous(90, {}))).toBeUndefined();
  });

  it("a critical check that fails now and did not before; a high one, or one failing already, is no news", () => {
    const failing = [
      { id: "a.critical-new", severity: "critical" as const },
      { id: "a.critical-old", severity: "critical" as const },
      { id: "a.high-new", severity: "high" as const },
    ];
    const alert = alertFor(
      report(90, failing),
      previous(90, { "a.critical-old": "fail", "a.critical-new": "pass" }),
    );
    expect(alert?.newlyFailedCritical).toEqual(["a.critical-new"]);
    expect(alert?.scoreDrop).toBe(0);
    expect(
      alertFor(report(90, failing.slice(1)), previous(90, { "a.critical-old": "fail" })),
    ).toBeUndefined();
  });

  it("an org's first report notifies its failing critical checks (nothing proved them before), and says only ids and scores", () => {
    const alert = alertFor(report(40, [{ id: "a.critical", severity: "critical" }]), undefined);
    expect(alert).toEqual({
      type: "compliance_report",
      orgId: "demo",
      reportId: "r2",
      previousReportId: "",
      score: 40,
      previousScore: 40,
      scoreDrop: 0,
      newlyFailedCritical: ["a.critical"],
    });
  });
});
