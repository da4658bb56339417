import * as z from "zod";
import { MAX_AUDIT_SHARDS } from "../../shared/config";

/**
 * Stage settings, from CDK context: `-c key=value` on the command line, else the stage's entry under
 * `stages` in `cdk.json` (`stages.dev` holds the dev defaults). Documented in the README. Context given on
 * the command line arrives as strings, hence the coercions.
 */
const list = z.union([z.array(z.string()), z.string().transform((value) => value.split(","))]);
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]);
const kmsKeyArn = z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/);
const bucketArn = z.string().regex(/^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
/** An object, or (from the command line) its JSON. */
const json = (value: unknown) => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

/**
 * Cross-region replication: a destination bucket per source (made by the operator in another region,
 * versioned; under Object Lock for the checkpoint and CloudTrail buckets) and the replica region's KMS key.
 */
const ReplicationSchema = z.object({
  kmsKeyArn,
  buckets: z.object({
    transcripts: bucketArn,
    checkpoints: bucketArn,
    reports: bucketArn,
    accessLogs: bucketArn,
    /** Not with trail "organization" (no trail bucket then). */
    cloudTrail: bucketArn.optional(),
  }),
});

export const StageSettingsSchema = z.object({
  stage: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/),
  allowedOrigins: list.pipe(z.array(z.url().startsWith("https://")).min(1)),
  logRetentionDays: z.coerce.number().int().min(90).max(3653).default(365),
  alarmEmail: z.email(),
  useVpc: flag.default(true),
  /**
   * Each route function reserves its concurrency (its manifest's, else 10), so that a flood on one route
   * cannot starve the others; the account then needs the quota the README names. Off in dev. Jobs reserve
   * theirs on every stage: it is what keeps two runs of a job from racing.
   */
  reservedConcurrency: flag.default(true),
  auditShards: z.coerce.number().int().min(1).max(MAX_AUDIT_SHARDS).default(32),
  /** Object Lock (compliance mode) retention of audit checkpoints and CloudTrail files; HIPAA keeps 6 years. */
  auditRetentionDays: z.coerce.number().int().min(2190).max(3650).default(2555),
  /**
   * Checkpoint signing keys replaced by the stage's current one, whose checkpoints must still verify: the
   * verifier gets them (KMS_AUDIT_RETIRED_SIGNING_KEY_IDS) and may read their public keys, nothing more.
   */
  retiredSigningKeyArns: list.pipe(z.array(kmsKeyArn)).default([]),
  /**
   * What deleting the stack (or replacing a resource) does to data: "retain" keeps tables, buckets, keys, the
   * user pool and log groups (a stage that does not say); "destroy" deletes them (dev: destroy and redeploy).
   */
  removalPolicy: z.enum(["retain", "destroy"]).default("retain"),
  /** Deletion protection on the tables and the user pool (a delete fails while it is on). */
  deletionProtection: flag.default(true),
  /**
   * Object Lock mode of the checkpoint and CloudTrail buckets: COMPLIANCE (nobody, root included, shortens
   * it) unless the stage says GOVERNANCE (a principal with s3:BypassGovernanceRetention can delete: dev).
   */
  objectLockMode: z.enum(["COMPLIANCE", "GOVERNANCE"]).default("COMPLIANCE"),
  /** Vault Lock (compliance mode) on the backup vault: recovery points cannot be deleted early, by anyone. */
  backupVaultLock: flag.default(true),
  /**
   * "own": a multi-region trail of this stage (bucket, key, log group, alarms). "organization": the account is
   * covered by an organization trail; no trail is created here (see README, "CloudTrail").
   */
  trail: z.enum(["own", "organization"]).default("own"),
  /** With trail "organization": the organization trail's ARN (required then, so the stage names its trail). */
  organizationTrailArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9._-]+$/)
    .optional(),
  /**
   * Cross-region replication of every bucket (README, "Replication"), so PHI and the audit evidence survive
   * the loss of a region. Recommended for a stage that keeps its data; without it, synthesis warns and the
   * AWS Backup plan (same region) is the only copy.
   */
  replication: z.preprocess(json, ReplicationSchema).optional(),
  /**
   * Where invitation emails come from: an address (or an address of a domain) verified in SES in the stage's
   * region. Unset: Cognito's own email, limited to about 50 messages a day per account.
   */
  sesFromAddress: z.email().optional(),
  /** The account the stage deploys to: pinned, so a deploy with another account's credentials fails. */
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  /** The stage's region (dev: else the CLI's, else us-east-1). */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .optional(),
});

/**
 * What a stage other than `dev` must say itself (no default may decide where it deploys, or who hears its
 * alarms and which origins may call it).
 */
export const REQUIRED_OUTSIDE_DEV = ["account", "region", "alarmEmail", "allowedOrigins"] as const;

export type StageSettings = z.infer<typeof StageSettingsSchema>;

export function readSettings(context: (key: string) => unknown): StageSettings {
  const stage = String(context("stage") ?? "dev");
  const stages = (context("stages") ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const given = (key: string) => context(key) ?? stages[stage]?.[key];
  const raw = Object.fromEntries(Object.keys(StageSettingsSchema.shape).map((key) => [key, given(key)]));
  raw.stage = stage;
  const missing = stage === "dev" ? [] : REQUIRED_OUTSIDE_DEV.filter((key) => raw[key] === undefined);
  if (missing.length > 0)
    throw new Error(
      `Stage ${stage} needs ${missing.join(", ")}: set them under stages.${stage} in cdk.json or with -c key=value (see README, "Stage settings")`,
    );
  if (raw.trail === "organization" && raw.organizationTrailArn === undefined)
    throw new Error(
      `Stage ${stage} has trail "organization" and needs organizationTrailArn (see README, "CloudTrail")`,
    );
  const result = StageSettingsSchema.safeParse(raw);
  if (!result.success) {
    const names = result.error.issues.map((issue) => issue.path.join(".")).join(", ");
    throw new Error(`Invalid CDK context: ${names} (see README, "Configuration")`);
  }
  const settings = result.data;
  if (settings.replication && settings.trail === "own" && !settings.replication.buckets.cloudTrail)
    throw new Error(`Stage ${stage} has its own trail: replication.buckets needs cloudTrail`);
  return settings;
}
