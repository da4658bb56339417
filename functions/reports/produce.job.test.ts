import { describe, expect, it } from "vitest";
import { run } from "./produce.job";

const job = {
  service: "job:complianceReport",
  meta: { requestId: "r", sourceIp: "internal", userAgent: "t" },
};

describe("the report job's event", () => {
  it("refuses anything but one org id and one report id, before any AWS call", async () => {
    for (const event of [
      {},
      { orgId: "demo" },
      { orgId: "demo", reportId: "not-a-uuid" },
      { orgId: "Demo!", reportId: "0190b6d2-7c1e-7a3b-8f00-000000000000" },
      { orgId: "demo", reportId: "0190b6d2-7c1e-7a3b-8f00-000000000000", extra: 1 },
      null,
      "demo",
    ])
      await expect(run(event, job)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });
});
