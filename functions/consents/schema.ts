import * as z from "zod";
import { PURPOSES } from "../../shared/access";
import { phiFields } from "../../shared/audit/disclosure";

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

/** What a consent record tells about the client: whether, to which text version, since and until when. */
const CONSENT_FACTS = ["status", "version", "grantedAt", "revokedAt"];
export const CONSENT_PHI = phiFields(CONSENT_FACTS);
export const CONSENT_LIST_PHI = phiFields(CONSENT_FACTS, "items");
