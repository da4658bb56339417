import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FUNCTION_ENV } from "../../../test/support/function-env";
import { DOCUMENTATION_RETENTION_DAYS, resetConfig } from "../../config";
import { BUILT_IN_SETTINGS, type SettingsDocument } from "../../settings";
import { sectionOf } from "../check";
import { evaluateChecks } from "../evaluate";
import { CheckResultSchema } from "../report";
import { organizationalChecks } from "./organizational";

let document: SettingsDocument;
let objectLock: unknown;
vi.mock("../../settings", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../settings")>()),
  settingsDocument: async () => document,
}));
vi.mock("../../aws", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../aws")>()),
  aws: () => ({ send: async () => objectLock }),
}));

const NOW = new Date("2026-11-24T12:00:00.000Z");
const context = {
  orgId: "demo",
  period: { from: "2026-11-23T12:00:00.000Z", to: NOW.toISOString() },
  now: NOW,
  settings: BUILT_IN_SETTINGS,
  memo: <T>(_key: string, load: () => Promise<T>) => load(),
};
const ENV = FUNCTION_ENV;
const evaluate = async (id: string, settings = BUILT_IN_SETTINGS) => {
  const check = organizationalChecks.find((candidate) => candidate.id === id);
  if (!check) throw new Error(id);
  const { results } = await evaluateChecks([check], { ...context, settings });
  expect(CheckResultSchema.safeParse(results[0]).error?.issues).toBeUndefined();
  return results[0];
};
const lockFor = (mode: string, retention: { Days?: number; Years?: number }) => ({
  ObjectLockConfiguration: {
    ObjectLockEnabled: "Enabled",
    Rule: { DefaultRetention: { Mode: mode, ...retention } },
  },
});

/** Endpoints a run's other projects may have left in the environment: these tests read "the cloud". */
const inherited = Object.keys(process.env).filter((key) => key.startsWith("ENDPOINT_"));
const saved = Object.fromEntries(inherited.map((key) => [key, process.env[key]]));

describe("organizational and not-applicable checks", () => {
  beforeEach(() => {
    for (const key of inherited) delete process.env[key];
    Object.assign(process.env, ENV);
    resetConfig();
    document = {
      settings: BUILT_IN_SETTINGS,
      source: "org",
      version: 3,
      updatedAt: "2026-06-01T00:00:00.000Z",
    };
    objectLock = lockFor("COMPLIANCE", { Years: 7 });
  });
  afterEach(() => {
    for (const key of Object.keys(ENV)) delete process.env[key];
    Object.assign(process.env, saved);
    resetConfig();
  });

  it("cover §164.310, §164.314(b) and §164.316(b)(2); every not_applicable gives its justification", async () => {
    const sections = new Set(organizationalChecks.map((check) => sectionOf(check.hipaa)));
    expect([...sections].sort()).toEqual(["164.310", "164.314", "164.316"]);
    const { results } = await evaluateChecks(organizationalChecks, context);
    for (const result of results) {
      expect(CheckResultSchema.safeParse(result).error?.issues, result.id).toBeUndefined();
      if (result.status === "not_applicable") expect(result.reason?.length, result.id).toBeGreaterThan(80);
    }
    const facility = results.find((result) => result.id === "physical.facility-access");
    expect(facility).toMatchObject({
      status: "not_applicable",
      reason: expect.stringContaining("Business Associate"),
    });
    expect(results.find((result) => result.hipaa === "164.314(b)(1)")?.status).toBe("not_applicable");
  });

  it("disposal is not_evaluated until a flow crypto-shreds: it names the mechanism, never claims a pass", async () => {
    const result = await evaluate("physical.media-disposal");
    expect(result?.status).toBe("not_evaluated");
    expect(result?.evidence).toEqual({ mechanism: "per-client data key (keys table)", disposalFlow: false });
  });

  it("documentation retention passes with six years of compliance-mode Object Lock, fails short of it or in governance", async () => {
    expect((await evaluate("documentation.retention-six-years"))?.status).toBe("pass");
    objectLock = lockFor("COMPLIANCE", { Days: DOCUMENTATION_RETENTION_DAYS });
    expect((await evaluate("documentation.retention-six-years"))?.status).toBe("pass");
    objectLock = lockFor("COMPLIANCE", { Days: 5 * 365 });
    const short = await evaluate("documentation.retention-six-years");
    expect(short?.status).toBe("fail");
    expect(short?.evidence["reports.retentionDays"]).toBe(5 * 365);
    objectLock = lockFor("GOVERNANCE", { Years: 7 });
    expect((await evaluate("documentation.retention-six-years"))?.status).toBe("fail");
  });

  it("documentation updates: a settings change or BAA acceptance within a year passes, none fails", async () => {
    expect(await evaluate("documentation.reviewed-within-year")).toMatchObject({
      status: "pass",
      evidence: { settingsUpdatedAt: "2026-06-01T00:00:00.000Z", daysSinceReview: 176 },
    });
    document = { ...document, updatedAt: "2025-06-01T00:00:00.000Z" };
    expect((await evaluate("documentation.reviewed-within-year"))?.status).toBe("fail");
    const baa = { acceptedAt: "2026-01-10T00:00:00.000Z", acceptedBy: "u1", version: "2026-01" };
    expect(
      (await evaluate("documentation.reviewed-within-year", { ...BUILT_IN_SETTINGS, baa }))?.status,
    ).toBe("pass");
    document = { settings: BUILT_IN_SETTINGS, source: "built-in", version: 0 };
    expect(await evaluate("documentation.reviewed-within-year")).toMatchObject({
      status: "fail",
      evidence: { settingsSource: "built-in", settingsUpdatedAt: null },
    });
  });
});
