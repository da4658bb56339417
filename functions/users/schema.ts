import * as z from "zod";
import { ROLES } from "../../shared/auth/roles";

export const InviteUserSchema = z.strictObject({
  email: z.email().max(254),
  role: z.enum(ROLES),
  leadId: z.uuid().optional(),
});

export const UpdateUserSchema = z
  .strictObject({
    version: z.number().int().min(1),
    role: z.enum(ROLES).optional(),
    status: z.enum(["active", "disabled"]).optional(),
    /** `null` takes the coach off their lead's team. */
    leadId: z.uuid().nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 1, {
    params: { rule: "no_changes" },
    message: "nothing to change",
  });

export const UserIdPathSchema = z.strictObject({ userId: z.uuid() });
export const ReassignSchema = z.strictObject({ toCoachId: z.uuid() });

export const UserSchema = z.object({
  userId: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  status: z.enum(["active", "disabled"]),
  leadId: z.string().optional(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
