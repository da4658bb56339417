import * as z from "zod";
import { type PhiFields, phiFields } from "../../shared/audit/disclosure";
import { CLIENT_PHI_FIELDS } from "../../shared/auth/policy";
import { LIST_PAGE_BOUND } from "../../shared/config";

/** Client (data subject) schemas. Strict everywhere: unknown fields are a 400, never silently dropped. */
const text = (max: number) => z.string().trim().min(1).max(max);

export const AddressSchema = z.strictObject({
  line1: text(200),
  line2: text(200).optional(),
  city: text(100),
  region: text(100).optional(),
  postalCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9 -]{3,12}$/),
  country: z.string().regex(/^[A-Z]{2}$/),
});

const pastDate = z.iso
  .date()
  .refine((value) => value >= "1900-01-01" && value <= new Date().toISOString().slice(0, 10), {
    params: { rule: "past_date" },
    message: "must be a date between 1900-01-01 and today",
  });

export const ClientStatusSchema = z.enum(["active", "paused", "discharged"]);

const phiSchemas = {
  name: text(200),
  email: z.email().max(254).optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9 ().-]{7,25}$/)
    .optional(),
  dateOfBirth: pastDate.optional(),
  address: AddressSchema.optional(),
  healthGoals: z.array(text(500)).max(20).optional(),
  conditions: z.array(text(200)).max(50).optional(),
};

export const CreateClientSchema = z.strictObject({
  ...phiSchemas,
  status: ClientStatusSchema.default("active"),
});
export type CreateClientInput = z.infer<typeof CreateClientSchema>;

export const UpdateClientSchema = z
  .strictObject({
    ...phiSchemas,
    name: phiSchemas.name.optional(),
    status: ClientStatusSchema.optional(),
    version: z.number().int().min(1),
  })
  .refine((body) => Object.keys(body).length > 1, {
    params: { rule: "no_changes" },
    message: "nothing to change",
  });
export type UpdateClientInput = z.infer<typeof UpdateClientSchema>;

export const ClientIdPathSchema = z.strictObject({ clientId: z.uuid() });

export const ListClientsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIST_PAGE_BOUND).optional(),
  cursor: z.string().max(2048).optional(),
});

export const ClientSchema = z.object({
  clientId: z.uuid(),
  status: ClientStatusSchema,
  version: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  createdBy: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
  dateOfBirth: z.string().optional(),
  address: AddressSchema.optional(),
  healthGoals: z.array(z.string()).optional(),
  conditions: z.array(z.string()).optional(),
});

/** In a list, a client whose data key is gone (being crypto-shredded) is listed without its PHI. */
const ListedClientSchema = ClientSchema.extend({ phiUnavailable: z.literal(true).optional() });
export const ClientListSchema = z.object({
  items: z.array(ListedClientSchema),
  nextCursor: z.string().optional(),
});

/** Where client PHI sits in these bodies, as audit field names (see `shared/audit/disclosure.ts`). */
export const CLIENT_PHI = phiFields(CLIENT_PHI_FIELDS);
export const CLIENT_LIST_PHI = phiFields(CLIENT_PHI_FIELDS, "items");
/** An update writes the PHI fields it carries and the status. */
export const CLIENT_UPDATE_WRITES: PhiFields = phiFields([...CLIENT_PHI_FIELDS, "status"]);
