import * as z from "zod";
import { type TenantSettings, TenantSettingsSchema } from "../../shared/settings";

/** A change to settings: any subset of the keys, nested objects partial too; arrays are whole values. */
type Patch<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: Patch<T[K]> } : T;
export type SettingsPatch = Patch<TenantSettings>;

/**
 * The settings schema made partial at every depth, with the same bounds and strictness (an unknown key or
 * a value out of bounds is a 400 naming the field and rule). Defaults are dropped: a key left out is left
 * as it is. Rules across keys (business hours' start before end) are checked on the merged document.
 */
function partialAtEveryDepth(schema: z.core.$ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault)
    return partialAtEveryDepth(schema._zod.def.innerType);
  if (schema instanceof z.ZodObject)
    return z.strictObject(
      Object.fromEntries(
        Object.entries(schema.shape).map(([key, value]) => [key, partialAtEveryDepth(value).optional()]),
      ),
    );
  return schema as z.ZodType;
}

export const SettingsPatchSchema = partialAtEveryDepth(TenantSettingsSchema) as z.ZodType<SettingsPatch>;

export const UpdateSettingsSchema = z.strictObject({
  /** The version the caller last read (`GET /settings`), 0 while the org has no document of its own. */
  version: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  settings: SettingsPatchSchema,
});

export const SettingsResponseSchema = z.object({
  settings: TenantSettingsSchema,
  /** The org document's version: 0 while the org has none (the platform's or the built-in settings apply). */
  version: z.int(),
  source: z.enum(["org", "platform", "built-in"]),
  updatedAt: z.iso.datetime().optional(),
  /** The user id of the admin who changed the org's settings last. */
  updatedBy: z.string().optional(),
});
