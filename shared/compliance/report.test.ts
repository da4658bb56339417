import { describe, expect, it } from "vitest";
import { CheckResultSchema } from "./report";

const result = (hipaa: string) => ({
  id: "protection.rate-limits-on",
  title: "t",
  hipaa,
  section: "164.308",
  layer: "application",
  status: "pass",
  severity: "medium",
  weight: 2,
  evidence: { enabled: true },
});

describe("the report schema's citations", () => {
  it("accepts the Security Rule's own spelling, capital paragraph letters included", () => {
    for (const hipaa of ["164.308(a)(5)(ii)(C)", "164.312(b)", "164.316(b)(2)(i)"])
      expect(CheckResultSchema.safeParse(result(hipaa)).success, hipaa).toBe(true);
  });

  it("refuses what is no Security Rule citation", () => {
    for (const hipaa of ["164.502(a)", "164.308(a", "164.308 (a)", "164.308(a)<b>"])
      expect(CheckResultSchema.safeParse(result(hipaa)).success, hipaa).toBe(false);
  });
});
