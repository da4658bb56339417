export { type SettingsDocument, type SettingsSource, settingsDocument, settingsPut } from "./document";
export {
  BUILT_IN_SETTINGS,
  MAX_BLOCK_SECONDS,
  RATE_COSTS,
  type RateCost,
  type TenantSettings,
  TenantSettingsSchema,
} from "./schema";
export {
  forgetCachedSettings,
  orgSettingsId,
  PLATFORM_SETTINGS_ID,
  platformSettings,
  SETTINGS_VALUE_ATTRIBUTE,
  tenantSettings,
} from "./store";
