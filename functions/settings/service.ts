import { appendWithItems, auditEntry, type RequestMeta } from "../../shared/audit";
import { requireOrgAction } from "../../shared/auth/policy";
import type { Principal } from "../../shared/auth/principal";
import { VersionConflictError } from "../../shared/errors";
import {
  forgetCachedSettings,
  orgSettingsId,
  type SettingsDocument,
  settingsDocument,
  settingsPut,
  TenantSettingsSchema,
} from "../../shared/settings";
import { validatePart } from "../../shared/validation";
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
  return { settings, source: "org", version: current.version + 1, ...change };
}
