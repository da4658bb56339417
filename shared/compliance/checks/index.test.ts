import { describe, expect, it } from "vitest";
import { CheckResultSchema } from "../report";
import { CHECKS } from ".";

describe("the check list", () => {
  it("has unique ids, and every check's id and citation fit the report's schema", () => {
    const ids = CHECKS.map((check) => check.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const check of CHECKS) {
      const shape = CheckResultSchema.safeParse({
        id: check.id,
        title: check.title,
        hipaa: check.hipaa,
        section: check.hipaa.split("(")[0],
        layer: check.layer,
        status: "fail",
        severity: check.severity,
        weight: check.weight,
        evidence: {},
        remediation: check.remediation,
      });
      expect(shape.error?.issues, check.id).toBeUndefined();
    }
  });

  it("reads the fourth level of a citation as the CFR writes it", () => {
    const hipaa = CheckResultSchema.shape.hipaa;
    expect(hipaa.safeParse("164.308(a)(3)(ii)(C)").success).toBe(true);
    expect(hipaa.safeParse("164.312(a)(2)(iv)").success).toBe(true);
    expect(hipaa.safeParse("164.312(A)").success).toBe(false);
    expect(hipaa.safeParse("164.312(a)(C)(i)").success).toBe(false);
  });
});
