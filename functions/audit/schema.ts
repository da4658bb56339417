import * as z from "zod";
import { RecordedEntrySchema } from "../../shared/audit/entry";

/** Audit trail schemas: what compliance officers query and what they get back (never a PHI value). */
const range = {
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  // Audit pages write no per-item pointers, so the list transaction bound (LIST_PAGE_BOUND) does not apply.
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
};
const ordered = (value: { from?: string; to?: string }) => !value.from || !value.to || value.from < value.to;
const orderedRule = { params: { rule: "from_before_to" }, message: "from must be before to", path: ["to"] };

export const EntryQuerySchema = z
  .strictObject({
    ...range,
    actorId: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,128}$/)
      .optional(),
    action: z
      .string()
      .regex(/^[a-z]+(\.[a-z-]+)+$/)
      .max(64)
      .optional(),
  })
  .refine(ordered, orderedRule);

export const DisclosureQuerySchema = z.strictObject(range).refine(ordered, orderedRule);

export const VerifyQuerySchema = z.strictObject({
  from: z.union([z.enum(["genesis", "latest"]), z.coerce.number().int().min(1).max(1e12)]).optional(),
});

const FoundEntrySchema = z.object({
  chain: z.string(),
  seq: z.number().int(),
  hash: z.string(),
  hashValid: z.boolean(),
  entry: RecordedEntrySchema.optional(),
  problem: z.enum(["outside-chains", "missing", "misdirected"]).optional(),
});

export const EntryPageSchema = z.object({
  items: z.array(FoundEntrySchema),
  nextCursor: z.string().optional(),
});

const Problem = z.object({
  chain: z.string().optional(),
  seq: z.number().int().optional(),
  checkpoint: z.number().int().optional(),
  problem: z.string(),
});

export const VerificationSchema = z.object({
  orgId: z.string(),
  fromCheckpoint: z.number().int(),
  intact: z.boolean(),
  entries: z.number().int(),
  checkpoints: z.number().int(),
  chains: z.array(z.object({ chain: z.string(), entries: z.number().int(), problem: Problem.optional() })),
  entryProblem: Problem.optional(),
  checkpointProblem: Problem.optional(),
  /** `index-attribute` names the attribute; `missing-disclosure` names the client; `pointers-unreadable`: neither. */
  indexProblem: Problem.extend({
    clientId: z.string().optional(),
    attribute: z.string().optional(),
  }).optional(),
  /** The S3 version of each checkpoint read (the newest 1,000; "null" where the store keeps no versions). */
  checkpointVersions: z.array(z.object({ number: z.number().int(), versionId: z.string() })),
  /** A hash chain over every checkpoint version read, in order. */
  checkpointVersionDigest: z.string(),
});

export const VerificationJobPathSchema = z.strictObject({ jobId: z.uuid() });

export const VerificationJobSchema = z.object({
  jobId: z.uuid(),
  state: z.enum(["running", "done", "failed"]),
  from: z.union([z.enum(["genesis", "latest"]), z.number().int()]),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  progress: z.object({
    runs: z.number().int(),
    chains: z.number().int(),
    chainsDone: z.number().int(),
    entriesVerified: z.number().int(),
    checkpointsVerified: z.number().int(),
  }),
  /** Present once the job is done. */
  report: VerificationSchema.optional(),
  error: z.object({ code: z.string() }).optional(),
});
