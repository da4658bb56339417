import * as z from "zod";
import { ROLES } from "../../shared/auth/roles";

export const InviteUserSchema = z.strictObject({
  /** Compared case-insensitively, as the user pool does. */
  email: z.email().max(254).toLowerCase(),
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
  /**
   * Present while Cognito has yet to follow a change (the directory, which the API acts on, has it), or
   * `failed` when it never can (the account is gone from Cognito; the operators were alerted).
   */
  identitySync: z.enum(["pending", "failed"]).optional(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const InvitationSchema = z.object({
  inviteId: z.uuid(),
  email: z.string(),
  role: z.enum(ROLES),
  leadId: z.string().optional(),
  /** `failed` never says why (an account elsewhere looks like any other failure). */
  status: z.enum(["pending", "sent", "failed"]),
  /** The new account's id, once `sent`. */
  userId: z.string().optional(),
  invitedBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const InvitationListSchema = z.object({
  items: z.array(InvitationSchema),
  nextCursor: z.string().optional(),
});
export const ListInvitationsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(50).optional(),
  cursor: z.string().max(2048).optional(),
});
