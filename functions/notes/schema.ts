import * as z from "zod";
import { phiFields } from "../../shared/audit/disclosure";

export const ClientPathSchema = z.strictObject({ clientId: z.uuid() });
export const NotePathSchema = z.strictObject({ clientId: z.uuid(), noteId: z.uuid() });
export const CreateNoteSchema = z.strictObject({
  text: z.string().trim().min(1).max(20_000),
  sessionId: z.uuid().optional(),
});
export const UpdateNoteSchema = z.strictObject({
  text: z.string().trim().min(1).max(20_000),
  version: z.number().int().min(1),
});
export const NoteSchema = z.object({
  noteId: z.uuid(),
  clientId: z.uuid(),
  sessionId: z.uuid().optional(),
  authorId: z.string(),
  text: z.string(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const NoteListSchema = z.object({ items: z.array(NoteSchema) });

export const NOTE_PHI = phiFields(["text"]);
export const NOTE_LIST_PHI = phiFields(["text"], "items");
