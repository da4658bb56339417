import * as z from "zod";
import { type GrantKind, PHI_GRANTS } from "../../shared/access";
import { ROLES } from "../../shared/auth/roles";

export const ChangeIdPathSchema = z.strictObject({ changeId: z.uuid() });

/** The change exactly as requested (ids and settings only). */
const OperationSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("assign"), clientId: z.string(), coachId: z.string() }),
  z.object({
    op: z.literal("reassign"),
    fromId: z.string(),
    toId: z.string(),
    clientIds: z.array(z.string()),
  }),
  z.object({
    op: z.literal("updateUser"),
    userId: z.string(),
    version: z.number().int(),
    role: z.enum(ROLES).optional(),
    status: z.enum(["active", "disabled"]).optional(),
    leadId: z.string().nullable().optional(),
  }),
]);

/** A change held by the two-person rule: who asked, whom it grants access to, what it does, its state. */
export const HeldChangeSchema = z.object({
  changeId: z.string(),
  kind: z.enum(Object.keys(PHI_GRANTS) as [GrantKind, ...GrantKind[]]),
  status: z.enum(["pending", "approved", "rejected"]),
  requesterId: z.string(),
  granteeIds: z.array(z.string()),
  change: OperationSchema,
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
});
export const HeldChangeListSchema = z.object({ items: z.array(HeldChangeSchema) });
