import { describe, expect, it } from "vitest";
import { nextDue, scheduleDecision } from "./schedule";
import type { ReportRow } from "./store";

const row = (status: ReportRow["status"], requestedAt: string): ReportRow => ({
  pk: "ORG#demo",
  sk: "REPORT#r1",
  orgId: "demo",
  reportId: "r1",
  status,
  requestedAt,
  requestedBy: "job:scheduleReports",
  trigger: "schedule",
});
const at = (text: string) => new Date(text);

describe("the report schedule", () => {
  it("an org without reports is due at once", () => {
    expect(scheduleDecision("daily", undefined, at("2026-11-24T03:00:00Z"))).toEqual({ action: "new" });
  });

  it("daily, weekly and monthly from the last request, due half a scheduler period early (no drift)", () => {
    const done = row("done", "2026-11-24T03:10:00Z");
    expect(scheduleDecision("daily", done, at("2026-11-25T02:00:00Z"))).toEqual({ action: "none" });
    expect(scheduleDecision("daily", done, at("2026-11-25T03:00:00Z"))).toEqual({ action: "new" });
    expect(scheduleDecision("weekly", done, at("2026-11-30T03:00:00Z"))).toEqual({ action: "none" });
    expect(scheduleDecision("weekly", done, at("2026-12-01T03:00:00Z"))).toEqual({ action: "new" });
    expect(scheduleDecision("monthly", done, at("2026-12-23T03:00:00Z"))).toEqual({ action: "none" });
    expect(scheduleDecision("monthly", done, at("2026-12-24T03:00:00Z"))).toEqual({ action: "new" });
    expect(nextDue("monthly", at("2026-01-31T00:00:00Z")).toISOString()).toBe("2026-03-03T00:00:00.000Z");
  });

  it("starts a failed report again, and a pending one only once it has stalled", () => {
    const now = at("2026-11-24T05:00:00Z");
    expect(scheduleDecision("daily", row("failed", "2026-11-24T04:59:00Z"), now)).toEqual({
      action: "restart",
      reportId: "r1",
    });
    expect(scheduleDecision("daily", row("pending", "2026-11-24T04:30:00Z"), now)).toEqual({
      action: "none",
    });
    // Pending for 7 hours: its event may still wait in Lambda's queue (up to 6 h), so it is not raced.
    expect(scheduleDecision("daily", row("pending", "2026-11-23T22:00:00Z"), now)).toEqual({
      action: "none",
    });
    expect(scheduleDecision("daily", row("pending", "2026-11-23T20:59:00Z"), now)).toEqual({
      action: "restart",
      reportId: "r1",
    });
    // Restarted a moment ago: not again until that start has stalled too.
    for (const status of ["pending", "failed"] as const) {
      const restarted = { ...row(status, "2026-11-20T00:00:00Z"), restartedAt: "2026-11-24T04:30:00Z" };
      expect(scheduleDecision("daily", restarted, now)).toEqual({ action: "none" });
      expect(scheduleDecision("daily", restarted, at("2026-11-24T11:30:00Z"))).toEqual({ action: "none" });
      expect(scheduleDecision("daily", restarted, at("2026-11-24T12:30:00Z"))).toEqual({
        action: "restart",
        reportId: "r1",
      });
    }
  });
});
