import { describe, expect, it } from "vitest";
import { ServiceUnavailableError } from "../errors";
import { BUILT_IN_SETTINGS } from "../settings";
import { type CheckDefinition, failed, passed } from "./check";
import { evaluateChecks } from "./evaluate";
import { CheckResultSchema } from "./report";

const base = {
  title: "t",
  hipaa: "164.312(b)",
  layer: "application",
  severity: "high",
  weight: 1,
  remediation: "Fix it.",
} as const;
const context = {
  orgId: "demo",
  period: { from: "2026-11-01T00:00:00.000Z", to: "2026-11-02T00:00:00.000Z" },
  now: new Date("2026-11-02T00:00:00.000Z"),
  settings: BUILT_IN_SETTINGS,
  memo: <T>(_key: string, load: () => Promise<T>) => load(),
};

describe("evaluating checks", () => {
  it("never passes without evidence, never fails without remediation, and a throwing check is not_evaluated", async () => {
    const checks: CheckDefinition[] = [
      { ...base, id: "a.empty-pass", evaluate: async () => passed({}) },
      { ...base, id: "a.fails", evaluate: async () => failed({ broken: 1 }) },
      { ...base, id: "a.unavailable", evaluate: async () => Promise.reject(new ServiceUnavailableError()) },
      { ...base, id: "a.bug", evaluate: async () => Promise.reject(new TypeError("x is undefined")) },
      { ...base, id: "a.carries", evaluate: async () => passed({ n: 2 }, { seen: 2 }) },
    ];
    const { results, carry } = await evaluateChecks(checks, context);
    expect(results.map((result) => result.status)).toEqual([
      "not_evaluated",
      "fail",
      "not_evaluated",
      "not_evaluated",
      "pass",
    ]);
    expect(results[1]?.remediation).toBe("Fix it.");
    expect(results[2]?.reason).toContain("SERVICE_UNAVAILABLE");
    expect(results[3]?.reason).not.toContain("x is undefined");
    expect(carry).toEqual({ "a.carries": { seen: 2 } });
    for (const result of results) expect(CheckResultSchema.safeParse(result).success).toBe(true);
  });

  it("gives each check what it carried last time", async () => {
    let seen: unknown;
    const check: CheckDefinition = {
      ...base,
      id: "a.reads-carry",
      evaluate: async ({ carried }) => {
        seen = carried;
        return passed({ ok: true });
      },
    };
    const previous = {
      reportId: "r1",
      generatedAt: context.period.from,
      score: 90,
      statuses: {},
      carry: { "a.reads-carry": { upTo: 7 } },
    };
    await evaluateChecks([check], { ...context, previous });
    expect(seen).toEqual({ upTo: 7 });
  });
});

describe("a check whose evidence the report's schema refuses", () => {
  it("is not_evaluated, and the other checks keep their verdicts (one hostile item never sinks the report)", async () => {
    const checks: CheckDefinition[] = [
      { ...base, id: "a.hostile", evaluate: async () => failed({ ids: ["x".repeat(10_000)] }) },
      { ...base, id: "a.fine", evaluate: async () => passed({ n: 1 }) },
    ];
    const { results } = await evaluateChecks(checks, context);
    expect(results.map((result) => result.status)).toEqual(["not_evaluated", "pass"]);
    expect(results[0]?.evidence).toEqual({});
    for (const result of results) expect(CheckResultSchema.safeParse(result).success).toBe(true);
  });
});
