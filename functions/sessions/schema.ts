import * as z from "zod";
import { phiFields } from "../../shared/audit/disclosure";

export const SESSION_TYPES = ["intake", "coaching", "follow_up", "group"] as const;
export const ClientPathSchema = z.strictObject({ clientId: z.uuid() });
export const SessionPathSchema = z.strictObject({ clientId: z.uuid(), sessionId: z.uuid() });

export const CreateSessionSchema = z.strictObject({
  startsAt: z.iso.datetime({ offset: true }),
  durationMinutes: z.number().int().min(5).max(480),
  type: z.enum(SESSION_TYPES),
});

export const TranscriptMetaSchema = z.object({
  version: z.number().int(),
  bytes: z.number().int(),
  uploadedAt: z.string(),
  phiSummary: z.record(z.string(), z.number()),
});

export const SessionSchema = z.object({
  sessionId: z.uuid(),
  clientId: z.uuid(),
  coachId: z.string(),
  startsAt: z.string(),
  durationMinutes: z.number().int(),
  type: z.enum(SESSION_TYPES),
  transcript: TranscriptMetaSchema.optional(),
});
export const SessionListSchema = z.object({ items: z.array(SessionSchema) });

/** The session's time is PHI (sealed); the rest describes the coaching, not the client. */
export const SESSION_PHI = phiFields(["startsAt"]);
export const SESSION_LIST_PHI = phiFields(["startsAt"], "items");
