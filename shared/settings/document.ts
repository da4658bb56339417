import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { GuardedItem } from "../audit";
import { aws } from "../aws";
import { getConfig } from "../config";
import { VersionConflictError } from "../errors";
import { logger } from "../log";
import { BUILT_IN_SETTINGS, type TenantSettings } from "./schema";
import { orgSettingsId, PLATFORM_SETTINGS_ID, parseStored, SETTINGS_VALUE_ATTRIBUTE } from "./store";

/** A settings item as stored: the document as JSON text, and who changed it last, when, and how often. */
type StoredItem = {
  id: string;
  [SETTINGS_VALUE_ATTRIBUTE]: unknown;
  version?: number;
  updatedAt?: string;
  updatedBy?: string;
};

export type SettingsSource = "org" | "platform" | "built-in";

/**
 * An org's settings as they stand in the table right now (not through the cache): the effective document,
 * where it comes from, and the org document's version (0 while the org has none) with its metadata.
 */
export type SettingsDocument = {
  settings: TenantSettings;
  source: SettingsSource;
  version: number;
  updatedAt?: string;
  updatedBy?: string;
};

async function storedItem(id: string): Promise<StoredItem | undefined> {
  const out = await aws("dynamo").send(
    new GetCommand({ TableName: getConfig().TABLE_SETTINGS, Key: { id }, ConsistentRead: true }),
  );
  return out.Item as StoredItem | undefined;
}

/** A stored item's settings, or undefined when its text is no JSON or does not fit the schema (logged). */
function settingsOf(item: StoredItem | undefined): TenantSettings | undefined {
  if (!item) return undefined;
  const text = item[SETTINGS_VALUE_ATTRIBUTE];
  try {
    return parseStored(item.id, typeof text === "string" ? JSON.parse(text) : undefined);
  } catch {
    logger.error("stored settings are not JSON", { securityEvent: "SETTINGS_INVALID", settings: item.id });
    return undefined;
  }
}

/**
 * The org's settings read consistently, with the same fallback as `tenantSettings` (org, platform,
 * built-in). An org item that does not parse still gives its version: a PATCH replaces it.
 */
export async function settingsDocument(orgId: string): Promise<SettingsDocument> {
  const [own, platform] = await Promise.all([
    storedItem(orgSettingsId(orgId)),
    storedItem(PLATFORM_SETTINGS_ID),
  ]);
  const metadata = {
    version: own?.version ?? 0,
    ...(own?.updatedAt && { updatedAt: own.updatedAt }),
    ...(own?.updatedBy && { updatedBy: own.updatedBy }),
  };
  const ownSettings = settingsOf(own);
  if (ownSettings) return { settings: ownSettings, source: "org", ...metadata };
  const platformSettings = settingsOf(platform);
  if (platformSettings) return { settings: platformSettings, source: "platform", ...metadata };
  return { settings: BUILT_IN_SETTINGS, source: "built-in", ...metadata };
}

/**
 * The put of a whole settings document (the org's, or the platform's) as version `expected + 1`, refused
 * with a version conflict (409) if the stored version is not `expected` (0: no document yet).
 */
export function settingsPut(
  id: string,
  settings: TenantSettings,
  expected: number,
  change: { updatedAt: string; updatedBy: string },
  table = getConfig().TABLE_SETTINGS,
): GuardedItem {
  return {
    item: {
      Put: {
        TableName: table,
        Item: {
          id,
          [SETTINGS_VALUE_ATTRIBUTE]: JSON.stringify(settings),
          version: expected + 1,
          ...change,
        },
        ...(expected === 0
          ? { ConditionExpression: "attribute_not_exists(#id)", ExpressionAttributeNames: { "#id": "id" } }
          : {
              ConditionExpression: "#v = :expected",
              ExpressionAttributeNames: { "#v": "version" },
              ExpressionAttributeValues: { ":expected": expected },
            }),
      },
    },
    onConditionFailed: () => new VersionConflictError(),
  };
}
