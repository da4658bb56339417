import { DynamoDBProvider } from "@aws-lambda-powertools/parameters/dynamodb";
import { GetParameterError } from "@aws-lambda-powertools/parameters/errors";
import { aws } from "../aws";
import { getConfig } from "../config";
import { AppError, ServiceUnavailableError, ValidationError } from "../errors";
import { logger } from "../log";
import { validatePart } from "../validation";
import { BUILT_IN_SETTINGS, type TenantSettings, TenantSettingsSchema } from "./schema";

/** The settings table's item ids: the platform default, and one document per org. */
export const PLATFORM_SETTINGS_ID = "PLATFORM";
export const orgSettingsId = (orgId: string) => `ORG#${orgId}`;

/** A stored settings document: `value` is the settings as JSON text, `version` counts its changes. */
export const SETTINGS_VALUE_ATTRIBUTE = "value";

let provider: DynamoDBProvider | undefined;
/**
 * Powertools caches what it found but not what it did not find, so an org without its own document would
 * cost a read on every request: misses are remembered here for the same max age.
 */
const missing = new Map<string, number>();

async function storedDocument(id: string): Promise<unknown> {
  const { TABLE_SETTINGS, SETTINGS_MAX_AGE_SECONDS } = getConfig();
  provider ??= new DynamoDBProvider({
    tableName: TABLE_SETTINGS,
    keyAttr: "id",
    valueAttr: SETTINGS_VALUE_ATTRIBUTE,
    awsSdkV3Client: aws("dynamoRaw"),
  });
  if ((missing.get(id) ?? 0) > Date.now()) return undefined;
  try {
    const value = await provider.get(id, { maxAge: SETTINGS_MAX_AGE_SECONDS, transform: "json" });
    if (value === undefined) missing.set(id, Date.now() + SETTINGS_MAX_AGE_SECONDS * 1000);
    else missing.delete(id);
    return value;
  } catch (error) {
    const cause = error instanceof GetParameterError ? error.cause : error;
    if (cause instanceof AppError) throw cause;
    if (error instanceof GetParameterError) throw new ServiceUnavailableError(undefined, { cause });
    // Not JSON: only a hand-edited item can be; it counts as no document (and is reported below).
    logger.error("stored settings are not JSON", { securityEvent: "SETTINGS_INVALID", settings: id });
    return undefined;
  }
}

/** A stored document as settings (the schema fills keys added since it was written), or undefined. */
export function parseStored(id: string, value: unknown): TenantSettings | undefined {
  if (value === undefined) return undefined;
  try {
    return validatePart(TenantSettingsSchema, value, "settings");
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // Only PATCH /settings writes documents, and it validates: an invalid one was written around it.
    logger.error("stored settings do not fit the schema: the next level applies", {
      securityEvent: "SETTINGS_INVALID",
      settings: id,
      // Field and rule as a 400 names them (unknown keys too), never a value.
      problems: error.details,
    });
    return undefined;
  }
}

/**
 * An org's settings: its own document, else the platform default, else the built-in defaults. Read through
 * Powertools Parameters and kept `SETTINGS_MAX_AGE_SECONDS`, so a change applies everywhere within that.
 */
export async function tenantSettings(orgId: string): Promise<TenantSettings> {
  const own = orgSettingsId(orgId);
  const org = parseStored(own, await storedDocument(own));
  if (org) return org;
  return platformSettings();
}

/** The platform default (what no org is known for, such as an IP's failures), else the built-in defaults. */
export async function platformSettings(): Promise<TenantSettings> {
  return parseStored(PLATFORM_SETTINGS_ID, await storedDocument(PLATFORM_SETTINGS_ID)) ?? BUILT_IN_SETTINGS;
}

/** Forgets cached documents and misses (tests, and a function that just wrote its org's settings). */
export function forgetCachedSettings(): void {
  provider?.clearCache();
  missing.clear();
}
