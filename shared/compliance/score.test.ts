import { describe, expect, it } from "vitest";
import { scoreOf } from "./score";

const check = (status: "pass" | "fail" | "not_applicable" | "not_evaluated", severity = "high" as const) => ({
  status,
  severity,
  weight: 1,
});

describe("the score", () => {
  it("is the passed share of evaluated weight, severity-weighted", () => {
    const score = scoreOf([
      { status: "pass", severity: "critical", weight: 1 }, // 10
      { status: "fail", severity: "low", weight: 2 }, // 2
      { status: "pass", severity: "medium", weight: 3 }, // 9
    ]);
    expect(score.value).toBe(Math.floor((100 * 19) / 21));
    expect(score.band).toBe("strong");
  });

  it("counts not_evaluated and lowers coverage, never the ratio; not_applicable is outside both", () => {
    const score = scoreOf([check("pass"), check("not_evaluated"), check("not_applicable")]);
    expect(score.value).toBe(100);
    expect(score.counts).toEqual({ pass: 1, fail: 0, not_applicable: 1, not_evaluated: 1 });
    expect(score.coverage).toBe(0.5);
  });

  it("a critical failure caps the band at at_risk whatever the ratio", () => {
    const many = Array.from({ length: 40 }, () => ({
      status: "pass" as const,
      severity: "critical" as const,
      weight: 3,
    }));
    const score = scoreOf([...many, { status: "fail", severity: "critical", weight: 1 }]);
    expect(score.value).toBeGreaterThanOrEqual(99);
    expect(score.band).toBe("at_risk");
  });

  it("bands by value, and nothing evaluated is 0 with coverage 0", () => {
    expect(scoreOf([check("pass"), check("pass"), check("pass"), check("fail")]).band).toBe("moderate");
    expect(scoreOf([check("pass"), check("fail")]).band).toBe("weak");
    expect(scoreOf([check("pass"), check("fail"), check("fail")]).band).toBe("at_risk");
    expect(scoreOf([check("not_evaluated")])).toMatchObject({ value: 0, coverage: 0, band: "at_risk" });
  });
});
