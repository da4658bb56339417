import * as z from "zod";
import { LIST_PAGE_BOUND } from "../../shared/config";
import { SECURITY_EVENT_TYPES, SEVERITIES } from "../../shared/security";

/** Security findings as compliance officers and admins query them: ids, counts and times, never PHI. */

/** The longest range one query may cover (a year and a day: a yearly review in one range). */
export const MAX_RANGE_DAYS = 366;
/** Without `from`, a query covers this many days before `to`. */
export const DEFAULT_RANGE_DAYS = 30;
const DAY_MS = 86_400_000;

const rangeOf = (value: { from?: string; to?: string }, now = Date.now()) => {
  const to = value.to ? Date.parse(value.to) : now;
  const from = value.from ? Date.parse(value.from) : to - DEFAULT_RANGE_DAYS * DAY_MS;
  return { from, to };
};

export const SecurityEventQuerySchema = z
  .strictObject({
    from: z.iso.datetime().optional(),
    to: z.iso.datetime().optional(),
    type: z.enum(SECURITY_EVENT_TYPES).optional(),
    limit: z.coerce.number().int().min(1).max(LIST_PAGE_BOUND).optional(),
    cursor: z.string().max(2048).optional(),
  })
  .refine((value) => rangeOf(value).from <= rangeOf(value).to, {
    params: { rule: "from_not_after_to" },
    message: "from must not be after to",
    path: ["to"],
  })
  .refine(
    (value) => {
      const { from, to } = rangeOf(value);
      return to - from <= MAX_RANGE_DAYS * DAY_MS;
    },
    { params: { rule: "range_too_long" }, message: `at most ${MAX_RANGE_DAYS} days`, path: ["from"] },
  );
export type SecurityEventQuery = z.infer<typeof SecurityEventQuerySchema>;

/** The query's range as the store's ISO times (`to` defaults to now, `from` to DEFAULT_RANGE_DAYS before it). */
export function queryRange(query: Pick<SecurityEventQuery, "from" | "to">, now = Date.now()) {
  const { from, to } = rangeOf(query, now);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export const SecurityEventSchema = z.object({
  eventId: z.string(),
  type: z.enum(SECURITY_EVENT_TYPES),
  severity: z.enum(SEVERITIES),
  at: z.iso.datetime(),
  window: z.object({ from: z.string(), to: z.string() }),
  subject: z.object({
    userId: z.string().optional(),
    ip: z.string().optional(),
    grantId: z.string().optional(),
    clientCount: z.number().optional(),
  }),
  rule: z.string(),
  evidence: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
});

export const SecurityEventPageSchema = z.object({
  items: z.array(SecurityEventSchema),
  nextCursor: z.string().optional(),
});
