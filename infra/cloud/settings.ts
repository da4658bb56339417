import * as z from "zod";
import { MAX_AUDIT_SHARDS } from "../../shared/config";

/**
 * Stage settings, from CDK context (`cdk.json` or `-c key=value`). Documented in the README.
 * Context given on the command line arrives as strings, hence the coercions.
 */
const list = z.union([z.array(z.string()), z.string().transform((value) => value.split(","))]);
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]);

export const StageSettingsSchema = z.object({
  stage: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/),
  allowedOrigins: list.pipe(z.array(z.url().startsWith("https://")).min(1)),
  logRetentionDays: z.coerce.number().int().min(90).max(3653),
  alarmEmail: z.email(),
  useVpc: flag,
  auditShards: z.coerce.number().int().min(1).max(MAX_AUDIT_SHARDS).default(32),
  /** Object Lock (compliance mode) retention of audit checkpoints and CloudTrail files; HIPAA keeps 6 years. */
  auditRetentionDays: z.coerce.number().int().min(2190).max(3650).default(2555),
  /**
   * Checkpoint signing keys replaced by the stage's current one, whose checkpoints must still verify: the
   * verifier gets them (KMS_AUDIT_RETIRED_SIGNING_KEY_IDS) and may read their public keys, nothing more.
   */
  retiredSigningKeyArns: list
    .pipe(z.array(z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/)))
    .default([]),
  /** Used when the CLI gives no region (CDK_DEFAULT_REGION); tables with customer-managed keys need one. */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .default("us-east-1"),
});

export type StageSettings = z.infer<typeof StageSettingsSchema>;

export function readSettings(context: (key: string) => unknown): StageSettings {
  const raw = Object.fromEntries(Object.keys(StageSettingsSchema.shape).map((key) => [key, context(key)]));
  const result = StageSettingsSchema.safeParse(raw);
  if (!result.success) {
    const names = result.error.issues.map((issue) => issue.path.join(".")).join(", ");
    throw new Error(`Invalid CDK context: ${names} (see README, "Configuration")`);
  }
  return result.data;
}
