import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { requireOrgAction } from "../../shared/auth/policy";
import type { Principal } from "../../shared/auth/principal";
import { VersionConflictError } from "../../shared/errors";
import { logger } from "../../shared/log";
import { raiseSecurityEvent } from "../../shared/security";
import {
  forgetCachedSettings,
  orgSettingsId,
  type SettingsDocument,
  settingsDocument,
  settingsPut,
  type TenantSettings,
  TenantSettingsSchema,
} from "../../shared/settings";
import { validatePart } from "../../shared/validation";
import { loosenings } from "./loosening";
import { changedPaths, mergeSettings } from "./patch";
import type { SettingsPatch } from "./schema";

/** The caller's org's settings as stored now (the org's own, else the platform's, else the built-in ones). */
export async function readSettings(principal: Principal): Promise<SettingsDocument> {
  requireOrgAction(principal, "settings:read");
  return settingsDocument(principal.orgId);
}

/**
 * Applies a change to the org's effective settings and stores the whole result as the org's document,
 * conditional on the version the caller read (409 `VERSION_CONFLICT` otherwise, so of concurrent changes
 * exactly one wins), in one transaction with its audit entry, which names the changed key paths and never
 * a value. A change that changes nothing writes nothing and answers the settings as they are.
 */
export async function updateSettings(
  principal: Principal,
  meta: RequestMeta,
  input: { version: number; settings: SettingsPatch },
): Promise<SettingsDocument> {
  requireOrgAction(principal, "settings:write");
  const current = await settingsDocument(principal.orgId);
  if (input.version !== current.version) throw new VersionConflictError();
  // Bounds were checked on the change itself; rules across keys (start before end) only hold on the whole.
  const settings = validatePart(
    TenantSettingsSchema,
    mergeSettings(current.settings, input.settings),
    "body.settings",
  );
  const changed = changedPaths(current.settings, settings);
  // An org item that no longer parses (written around this route) is replaced even by a change to nothing.
  const storedIsCurrent = current.source === "org" || current.version === 0;
  if (changed.length === 0 && storedIsCurrent) return current;
  const change = { updatedAt: new Date().toISOString(), updatedBy: principal.userId };
  await appendWithItems(
    auditEntry(principal, meta, "settings.update", { type: "settings", id: principal.orgId }, changed),
    [settingsPut(orgSettingsId(principal.orgId), settings, current.version, change)],
  );
  // This instance sees the change at once; others within SETTINGS_MAX_AGE_SECONDS (their cache's max age).
  forgetCachedSettings();
  await raiseIfWeakened(
    principal,
    current.settings,
    settings,
    changed,
    current.version + 1,
    change.updatedAt,
  );
  return { settings, source: "org", version: current.version + 1, ...change };
}

/**
 * A committed change that loosens a protection (the table in `loosening.ts`) is a `settings_weakened`
 * finding: an admin can blunt what watches them, so someone else hears of it. Raised after the write
 * commits (a refused change weakens nothing), once per version. Should raising fail, the change stands and
 * the log line carries the security event the alarm watches, with the same key paths.
 */
async function raiseIfWeakened(
  principal: Principal,
  before: TenantSettings,
  after: TenantSettings,
  changed: readonly string[],
  version: number,
  at: string,
): Promise<void> {
  const weakened = loosenings(before, after, changed);
  if (weakened.length === 0) return;
  const evidence = Object.fromEntries(weakened.map(({ path, direction }) => [path, direction]));
  try {
    await raiseSecurityEvent({
      type: "settings_weakened",
      severity: "high",
      orgId: principal.orgId,
      at,
      window: { from: at, to: at },
      subject: { userId: principal.userId },
      rule: "settings_weakened",
      evidence,
      dedupeKey: `settings_weakened#${version}`,
    });
  } catch (error) {
    logger.error("settings weakened; the finding was not raised", {
      securityEvent: "SETTINGS_WEAKENED",
      orgId: principal.orgId,
      userId: principal.userId,
      version,
      paths: weakened.map(({ path }) => path),
      error,
    });
  }
}
