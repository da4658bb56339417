import * as z from "zod";

export const AssignmentPathSchema = z.strictObject({ clientId: z.uuid(), coachId: z.uuid() });
export const AssignmentSchema = z.object({ clientId: z.string(), coaches: z.array(z.string()) });
