import * as z from "zod";
import { phiFields } from "../../shared/audit/disclosure";

export const ClientPathSchema = z.strictObject({ clientId: z.uuid() });
/** A written reason is required; it is sealed under the client's key since it may describe the client. */
export const BreakGlassSchema = z.strictObject({ reason: z.string().trim().min(20).max(1000) });
export const GrantSchema = z.object({ grantId: z.uuid(), clientId: z.uuid(), expiresAt: z.string() });

/** The reason may describe the client: it is written sealed, and named in the grant's audit entry. */
export const BREAK_GLASS_WRITES = phiFields(["reason"]);

export const GrantPathSchema = z.strictObject({ grantId: z.uuid() });
/**
 * A review's note is required and bounded; it may mention the client, so it is sealed under the client's
 * key like the grant's reason, and named in the review's audit entry.
 */
export const ReviewSchema = z.strictObject({ note: z.string().trim().min(1).max(2000) });
export const REVIEW_WRITES = phiFields(["note"]);
export const ReviewedGrantSchema = z.object({
  grantId: z.uuid(),
  clientId: z.uuid(),
  userId: z.string(),
  grantedAt: z.string(),
  expiresAt: z.string(),
  status: z.literal("reviewed"),
  reviewedBy: z.string(),
  reviewedAt: z.string(),
});
