import { readFileSync } from "node:fs";
import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import {
  BUILT_IN_SETTINGS,
  forgetCachedSettings,
  orgSettingsId,
  tenantSettings,
} from "../../shared/settings";
import { invokeRoute } from "../support/invoke";
import { testStack } from "../support/stack";

/**
 * GET and PATCH /settings over HTTPS on the local stack. The changes are made in the `other` org (and
 * only to values no other file of the run depends on), whose document is removed again at the end.
 */
const stack = testStack();
const { api } = stack;
const ORG = "other";
const idOf = (email: string) => stack.users.find((user) => user.email === email)?.userId as string;
let admin: string;
let compliance: string;
let coach: string;

const removeOrgDocument = async () => {
  await aws("dynamo").send(
    new DeleteCommand({ TableName: getConfig().TABLE_SETTINGS, Key: { id: orgSettingsId(ORG) } }),
  );
  forgetCachedSettings();
};

beforeAll(async () => {
  [admin, compliance, coach] = await Promise.all([
    stack.token("admin@other.example"),
    stack.token("compliance@other.example"),
    stack.token("coach@other.example"),
  ]);
  await removeOrgDocument();
});
afterAll(removeOrgDocument);

const read = async () => {
  const res = await api("GET", "/settings", { token: admin });
  expect(res.status).toBe(200);
  return res.json as { settings: typeof BUILT_IN_SETTINGS; version: number; source: string };
};
const patch = (version: number, settings: unknown, token = admin) =>
  api("PATCH", "/settings", { token, body: { version, settings } });
/** The org's `settings.update` entries since `from`, oldest first, as its compliance officer finds them. */
const updates = async (from: string) => {
  const res = await api(
    "GET",
    `/audit/entries?actorId=${idOf("admin@other.example")}&action=settings.update&from=${from}&limit=100`,
    { token: compliance },
  );
  expect(res.status).toBe(200);
  return (res.json.items as { entry: { fields: string[]; resource: unknown; time: string } }[])
    .map((item) => item.entry)
    .sort((a, b) => a.time.localeCompare(b.time));
};

describe("GET /settings and PATCH /settings", () => {
  it("lets admins read and change, compliance officers read, and no one else either", async () => {
    expect((await api("GET", "/settings", { token: coach })).status).toBe(403);
    expect((await patch(0, { retentionYears: 6 }, coach)).status).toBe(403);
    const asCompliance = await api("GET", "/settings", { token: compliance });
    expect(asCompliance.status).toBe(200);
    expect((await patch(0, { retentionYears: 6 }, compliance)).status).toBe(403);
    const lead = await stack.token("lead@demo.example");
    expect((await api("GET", "/settings", { token: lead })).status).toBe(403);
    expect((await api("GET", "/settings")).status).toBe(401);
    // Nothing was written by the refused changes.
    expect(await read()).toMatchObject({ version: 0 });
  });

  it("answers the platform's or built-in settings at version 0 while the org has none", async () => {
    const res = await read();
    expect(res.version).toBe(0);
    expect(res.source).toBe("built-in");
    expect(res.settings).toEqual(BUILT_IN_SETTINGS);
    expect(res).not.toHaveProperty("updatedAt");
  });

  it("merges a change into the effective settings, stores it whole, and audits the changed keys only", async () => {
    const started = new Date().toISOString();
    const res = await patch(0, {
      rateLimits: { perRole: { coach: 1000 } },
      detectors: { bulkReadClients: 60 },
      reports: { recipients: ["privacy.officer@other.example"] },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ version: 1, source: "org", updatedBy: idOf("admin@other.example") });
    expect(res.json.settings.rateLimits.perRole).toEqual({
      ...BUILT_IN_SETTINGS.rateLimits.perRole,
      coach: 1000,
    });
    expect(res.json.settings.detectors).toEqual({ ...BUILT_IN_SETTINGS.detectors, bulkReadClients: 60 });
    expect(await read()).toEqual(res.json);

    const [entry, ...more] = await updates(started);
    expect(more).toEqual([]);
    expect(entry?.resource).toEqual({ type: "settings", id: ORG });
    expect(entry?.fields).toEqual([
      "detectors.bulkReadClients",
      "rateLimits.perRole.coach",
      "reports.recipients",
    ]);
    // The address is in the settings, never in the trail or the stack's log.
    expect(JSON.stringify(entry)).not.toContain("privacy.officer");
    expect(readFileSync(stack.logFile, "utf8")).not.toContain("privacy.officer");

    // Arrays replace; objects keep the keys a change leaves out.
    const next = await patch(1, {
      reports: { recipients: [] },
      rateLimits: { perRole: { coach_lead: 400 } },
    });
    expect(next.status).toBe(200);
    expect(next.json.settings.reports.recipients).toEqual([]);
    expect(next.json.settings.rateLimits.perRole).toMatchObject({ coach: 1000, coach_lead: 400 });
    expect(next.json.version).toBe(2);
  });

  it("refuses values out of bounds, unknown keys and a broken whole with a 400 naming field and rule, storing nothing", async () => {
    const { version } = await read();
    const refusals = [
      [{ retentionYears: 8 }, [{ field: "body.settings.retentionYears", rule: "max:7" }]],
      [
        { rateLimits: { perRole: { coach: 0 } } },
        [{ field: "body.settings.rateLimits.perRole.coach", rule: "min:1" }],
      ],
      [
        { rateLimits: { perUser: 5 } },
        [{ field: "body.settings.rateLimits.perUser", rule: "unknown_field" }],
      ],
      [{ superuser: true }, [{ field: "body.settings.superuser", rule: "unknown_field" }]],
      [
        { businessHours: { timeZone: "GMT+2" } },
        [{ field: "body.settings.businessHours.timeZone", rule: "time_zone" }],
      ],
      // Valid alone, but before the stored start (07:00): the merged document is refused.
      [
        { businessHours: { end: "06:30" } },
        [{ field: "body.settings.businessHours.end", rule: "after_start" }],
      ],
      [
        { reports: { recipients: ["not-an-address"] } },
        [{ field: "body.settings.reports.recipients.0", rule: "format:email" }],
      ],
    ] as const;
    for (const [settings, details] of refusals) {
      const res = await patch(version, settings);
      expect(res.status, JSON.stringify(settings)).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
      expect(res.json.error.details).toEqual(details);
      expect(res.text).not.toMatch(/GMT\+2|not-an-address|06:30/);
    }
    expect((await read()).version).toBe(version);
  });

  it("refuses a change at a version that is not the stored one (409 VERSION_CONFLICT)", async () => {
    const { version } = await read();
    for (const stale of [0, version - 1, version + 1]) {
      const res = await patch(stale, { retentionYears: 5 });
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe("VERSION_CONFLICT");
    }
    expect((await read()).version).toBe(version);
  });

  it("of concurrent changes at one version exactly one wins; the trail holds the winner's entry only", async () => {
    const { version } = await read();
    const started = new Date().toISOString();
    const contenders = Array.from({ length: 8 }, (_, i) => 100 + i);
    const answers = await Promise.all(
      contenders.map((bulkReadClients) => patch(version, { detectors: { bulkReadClients } })),
    );
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    for (const res of answers.filter((answer) => answer.status === 409))
      expect(res.json.error.code).toBe("VERSION_CONFLICT");
    const winner = answers.find((res) => res.status === 200)?.json;
    const stored = await read();
    expect(stored.version).toBe(version + 1);
    expect(stored.settings.detectors.bulkReadClients).toBe(winner.settings.detectors.bulkReadClients);
    const entries = await updates(started);
    expect(entries.map((entry) => entry.fields)).toEqual([["detectors.bulkReadClients"]]);
  });

  it("answers a change to nothing with the settings as they are, writing nothing", async () => {
    const before = await read();
    const started = new Date().toISOString();
    const same = await patch(before.version, {
      retentionYears: before.settings.retentionYears,
      businessHours: { days: before.settings.businessHours.days },
    });
    expect(same.status).toBe(200);
    expect(same.json).toEqual(before);
    expect((await patch(before.version, {})).json).toEqual(before);
    expect(await updates(started)).toEqual([]);
    // A stale version is a conflict even for a change to nothing.
    expect((await patch(before.version - 1, {})).status).toBe(409);
  });

  it("keeps orgs apart: the other org's change is not the demo org's", async () => {
    const demoAdmin = await stack.token("admin@demo.example");
    const demo = await api("GET", "/settings", { token: demoAdmin });
    expect(demo.status).toBe(200);
    expect(demo.json.settings.rateLimits.perRole.coach).not.toBe(1000);
  });

  it("tenantSettings() sees a change: at once in the instance that made it, elsewhere after the cache's max age", async () => {
    forgetCachedSettings();
    const seen = await tenantSettings(ORG);
    const { version } = await read();
    const retentionYears = seen.retentionYears === 4 ? 5 : 4;
    // Through the handler in this process (as one Lambda instance): its own cache is dropped by the write.
    const res = await invokeRoute("PATCH", "/settings", {
      token: admin,
      body: { version, settings: { retentionYears } },
    });
    expect(res.status).toBe(200);
    expect(await tenantSettings(ORG)).toEqual(res.json.settings);
    // Any instance reads it once its cached copy is older than SETTINGS_MAX_AGE_SECONDS (here: forgotten).
    forgetCachedSettings();
    expect((await tenantSettings(ORG)).retentionYears).toBe(retentionYears);
    expect(await tenantSettings(ORG)).toEqual((await read()).settings);
  });
});

describe("a change that weakens a protection", () => {
  type Finding = { type: string; severity: string; subject: { userId?: string }; evidence: object };
  /** The org's `settings_weakened` findings raised since `from`, as its compliance officer lists them. */
  const weakenedSince = async (from: string) => {
    const to = new Date(Date.now() + 60_000).toISOString();
    const res = await api("GET", `/security/events?type=settings_weakened&from=${from}&to=${to}`, {
      token: compliance,
    });
    expect(res.status, res.text).toBe(200);
    return res.json.items as Finding[];
  };

  it("is a settings_weakened finding (high) naming the key paths and directions, never a value; a tightening change is none", async () => {
    // Earlier changes of this file weakened things too: only what this test's changes raise.
    const from = new Date().toISOString();
    const { version } = await read();
    const tightened = await patch(version, {
      detectors: { breakGlassReviewHours: 12 },
      rateLimits: { perRole: { coach: 90 } },
      businessHours: { end: "19:00" },
    });
    expect(tightened.status, tightened.text).toBe(200);
    expect(await weakenedSince(from)).toEqual([]);
    const loosened = await patch(version + 1, {
      rateLimits: { enabled: false, perRole: { coach: 80 } },
      detectors: { breakGlassReviewHours: 168 },
      businessHours: { end: "23:59" },
      reports: { recipients: ["officer.weakened@other.example"] },
    });
    expect(loosened.status, loosened.text).toBe(200);
    const findings = await weakenedSince(from);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      type: "settings_weakened",
      severity: "high",
      subject: { userId: idOf("admin@other.example") },
    });
    expect(findings[0]?.evidence).toEqual({
      "businessHours.end": "raised",
      "detectors.breakGlassReviewHours": "raised",
      "rateLimits.enabled": "turned_off",
    });
    const text = JSON.stringify(findings[0]);
    for (const value of ["officer.weakened", "23:59", "168"]) expect(text).not.toContain(value);
  });
});
