import * as z from "zod";
import { PURPOSES } from "../../shared/access";

export const ConsentPathSchema = z.strictObject({ clientId: z.uuid(), purpose: z.enum(PURPOSES) });
export const ClientPathSchema = z.strictObject({ clientId: z.uuid() });
/** The version of the consent text the client agreed to, e.g. `2026-01`. */
export const GrantConsentSchema = z.strictObject({ version: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/) });
export const ConsentSchema = z.object({
  purpose: z.enum(PURPOSES),
  status: z.enum(["granted", "revoked"]),
  version: z.string(),
  grantedAt: z.string(),
  revokedAt: z.string().optional(),
  recordedBy: z.string(),
});
export const ConsentListSchema = z.object({ items: z.array(ConsentSchema) });
