import { randomUUID } from "node:crypto";
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { ServiceUnavailableError } from "../../shared/errors";
import { logger } from "../../shared/log";
import {
  BUILT_IN_SETTINGS,
  forgetCachedSettings,
  orgSettingsId,
  PLATFORM_SETTINGS_ID,
  settingsDocument,
  tenantSettings,
} from "../../shared/settings";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { testStack } from "../support/stack";

/**
 * The settings reader against DynamoDB Local, through Powertools Parameters' real DynamoDB provider:
 * the org's document, else the platform's, else the built-in settings; what it found and what it did not
 * find are both kept for SETTINGS_MAX_AGE_SECONDS.
 */
testStack();
const table = () => getConfig().TABLE_SETTINGS;
const freshOrg = () => `settings-${randomUUID().slice(0, 8)}`;
const put = (id: string, value: unknown, version = 1) =>
  aws("dynamo").send(
    new PutCommand({
      TableName: table(),
      Item: { id, value: typeof value === "string" ? value : JSON.stringify(value), version },
    }),
  );
const settingsReads = () =>
  recorded().calls.filter((call) => call.operation === "GetItemCommand" && call.input.TableName === table());

beforeAll(() => installFaultInjector());

afterEach(async () => {
  // The platform document applies to every org of the stack: leave none behind for the files after this one.
  await aws("dynamo").send(new DeleteCommand({ TableName: table(), Key: { id: PLATFORM_SETTINGS_ID } }));
  forgetCachedSettings();
  vi.useRealTimers();
  vi.restoreAllMocks();
  disarm();
});

describe("tenant settings: org, then platform, then built-in", () => {
  it("falls back in that order, and fills keys a stored document lacks with the defaults", async () => {
    const org = freshOrg();
    expect(await tenantSettings(org)).toEqual(BUILT_IN_SETTINGS);
    expect(await settingsDocument(org)).toMatchObject({ source: "built-in", version: 0 });

    await put(PLATFORM_SETTINGS_ID, { retentionYears: 5 });
    forgetCachedSettings();
    expect(await tenantSettings(org)).toEqual({ ...BUILT_IN_SETTINGS, retentionYears: 5 });
    expect(await settingsDocument(org)).toMatchObject({ source: "platform", version: 0 });

    await put(orgSettingsId(org), { retentionYears: 3, rateLimits: { perRole: { coach: 80 } } }, 4);
    forgetCachedSettings();
    const own = await tenantSettings(org);
    expect(own.retentionYears).toBe(3);
    expect(own.rateLimits.perRole).toEqual({ ...BUILT_IN_SETTINGS.rateLimits.perRole, coach: 80 });
    // The org document is whole on its own: the platform's values do not show through it.
    expect(own.blocking).toEqual(BUILT_IN_SETTINGS.blocking);
    expect(await settingsDocument(org)).toMatchObject({ source: "org", version: 4, settings: own });
    // Another org still gets the platform's.
    expect((await tenantSettings(freshOrg())).retentionYears).toBe(5);
  });

  it.each([
    ["not JSON", "{retentionYears: 3"],
    ["outside the schema", { retentionYears: 99 }],
    ["with an unknown key", { retentionYears: 3, backdoor: true }],
  ])(
    "an org document %s counts as none: the next level applies, with a SETTINGS_INVALID event",
    async (_, stored) => {
      const errors = vi.spyOn(logger, "error");
      const org = freshOrg();
      await put(PLATFORM_SETTINGS_ID, { retentionYears: 5 });
      await put(orgSettingsId(org), stored, 2);
      expect((await tenantSettings(org)).retentionYears).toBe(5);
      const event = { securityEvent: "SETTINGS_INVALID", settings: orgSettingsId(org) };
      expect(errors).toHaveBeenCalledWith(expect.any(String), expect.objectContaining(event));
      // The consistent read falls back the same way and keeps the version, so a PATCH can replace it.
      expect(await settingsDocument(org)).toMatchObject({ source: "platform", version: 2 });
      if (typeof stored === "object" && "backdoor" in stored)
        expect(errors).toHaveBeenCalledWith(
          expect.any(String),
          expect.objectContaining({ problems: [{ field: "settings.backdoor", rule: "unknown_field" }] }),
        );
      // Field names at most, never the stored values.
      expect(JSON.stringify(errors.mock.calls)).not.toMatch(/99|backdoor: ?true|retentionYears: 3/);
    },
  );

  it("an invalid platform document falls back to the built-in settings, with a SETTINGS_INVALID event", async () => {
    const errors = vi.spyOn(logger, "error");
    await put(PLATFORM_SETTINGS_ID, { rateLimits: { perRole: { coach: -1 } } });
    expect(await tenantSettings(freshOrg())).toEqual(BUILT_IN_SETTINGS);
    expect(errors).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({
        securityEvent: "SETTINGS_INVALID",
        settings: PLATFORM_SETTINGS_ID,
        problems: [{ field: "settings.rateLimits.perRole.coach", rule: "min:1" }],
      }),
    );
  });

  it("keeps found documents and misses for the max age, then reads again", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-11-24T12:00:00Z") });
    const maxAgeMs = getConfig().SETTINGS_MAX_AGE_SECONDS * 1000;
    const org = freshOrg();
    const other = freshOrg();
    await put(orgSettingsId(other), { retentionYears: 2 });

    arm();
    expect(await tenantSettings(org)).toEqual(BUILT_IN_SETTINGS);
    expect((await tenantSettings(other)).retentionYears).toBe(2);
    // The org without a document: its own and the platform's miss; the other org: its document.
    expect(settingsReads().map((call) => call.input.Key.id.S)).toEqual([
      orgSettingsId(org),
      PLATFORM_SETTINGS_ID,
      orgSettingsId(other),
    ]);

    // Changes within the max age are not seen, and cost no read.
    await put(orgSettingsId(org), { retentionYears: 4 });
    await put(orgSettingsId(other), { retentionYears: 6 });
    arm();
    vi.setSystemTime(Date.now() + maxAgeMs - 1000);
    expect(await tenantSettings(org)).toEqual(BUILT_IN_SETTINGS);
    expect((await tenantSettings(other)).retentionYears).toBe(2);
    expect(settingsReads()).toEqual([]);

    // After it, both are read again.
    vi.setSystemTime(Date.now() + 2000);
    expect((await tenantSettings(org)).retentionYears).toBe(4);
    expect((await tenantSettings(other)).retentionYears).toBe(6);
    expect(settingsReads()).toHaveLength(2);
  });

  it("a throttled read is a retryable 503, never a silent fall back to the defaults", async () => {
    const org = freshOrg();
    await put(orgSettingsId(org), { retentionYears: 2 });
    arm({ target: { service: "dynamo", operation: "GetItemCommand", occurrence: 0 }, kind: "throttling" });
    await expect(tenantSettings(org)).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(recorded().fired).toBe(true);
    expect((await tenantSettings(org)).retentionYears).toBe(2);
  });
});
