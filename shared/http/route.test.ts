import { describe, expect, it } from "vitest";
import { routeList, routes } from "../../functions/routes";
import { API_GATEWAY_TIMEOUT_SECONDS, DEFAULT_FUNCTION_LIMITS, rateCostOf, routeLimits } from "./route";

describe("route limits", () => {
  it("fill in the defaults, and refuse a synchronous route longer than API Gateway waits (29 s)", () => {
    expect(routeLimits({ path: "/x" })).toEqual(DEFAULT_FUNCTION_LIMITS);
    expect(routeLimits({ path: "/x", timeoutSeconds: 29, memoryMb: 2048 })).toEqual({
      timeoutSeconds: 29,
      memoryMb: 2048,
    });
    expect(() => routeLimits({ path: "/x", timeoutSeconds: 30 })).toThrow(/29 s/);
  });

  it("every manifest route fits API Gateway's timeout", () => {
    for (const route of routeList)
      expect(routeLimits(route).timeoutSeconds).toBeLessThanOrEqual(API_GATEWAY_TIMEOUT_SECONDS);
  });
});

describe("route costs against the rate limits", () => {
  it("charge what a request makes the system do: reads 1, transcripts as their upload, verification as an export", () => {
    expect(rateCostOf(routes.listClients)).toBe("read");
    expect(rateCostOf(routes.uploadTranscript)).toBe("upload");
    expect(rateCostOf(routes.getTranscript)).toBe("upload");
    expect(rateCostOf(routes.startAuditVerification)).toBe("export");
  });
});
