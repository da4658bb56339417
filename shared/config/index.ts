import * as z from "zod";
import { ConfigError } from "../errors";

/**
 * Typed settings for every function and tool. In the cloud they come from the Lambda environment the
 * CDK app sets; locally `infra/local` sets the same variables plus the service endpoints.
 */
/** Six years from creation or last effect (§164.316(b)(2)(i)), leap days included: reports are kept this long. */
export const DOCUMENTATION_RETENTION_DAYS = 6 * 365 + 2;

const csv = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

const optionalUrl = z.url().optional();

/** The most hash chains an org's audit log may have (AUDIT_SHARDS; shared/audit/chain.ts says why more helps). */
export const MAX_AUDIT_SHARDS = 64;

/** DynamoDB's limit on the items of one TransactWriteItems call. */
export const TRANSACTION_MAX_ITEMS = 100;
/**
 * The largest page a list may return: a list's audit append writes, in one transaction, its entry and one
 * disclosure pointer per client it discloses, so a page holds at most one client fewer than the limit.
 * LIST_PAGE_MAX is bounded by it, and so is every list route's `limit`.
 */
export const LIST_PAGE_BOUND = TRANSACTION_MAX_ITEMS - 1;

/**
 * A route's body limit unless its manifest entry says otherwise. The cloud never sets `MAX_BODY_BYTES`, so
 * deployed functions use this, and so does the WAF's size rule for their routes (`infra/cloud/waf.ts`).
 */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const ConfigSchema = z.object({
  STAGE: z.string().min(1).default("local"),
  AWS_REGION: z.string().min(1).default("us-east-1"),
  TABLE_RECORDS: z.string().min(3),
  /** The people (users, invitations, held changes, org registry): only people-managing functions write it. */
  TABLE_DIRECTORY: z.string().min(3),
  TABLE_KEYS: z.string().min(3),
  TABLE_AUDIT: z.string().min(3),
  /** The chain heads the live witness has seen (written by the witness only). */
  TABLE_WITNESS: z.string().min(3),
  /** Tenant settings (shared/settings): the platform default and one document per org. */
  TABLE_SETTINGS: z.string().min(3),
  /** Rate-limit buckets and blocks (shared/protection). */
  TABLE_LIMITS: z.string().min(3),
  /** Idempotency-Key records (Powertools Idempotency). */
  TABLE_IDEMPOTENCY: z.string().min(3),
  /** Security signals, detector state and findings. */
  TABLE_SECURITY: z.string().min(3),
  /** How long a function keeps an org's settings before reading them again: a change applies within this. */
  SETTINGS_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(60).default(30),
  BUCKET_TRANSCRIPTS: z.string().min(3),
  /** How long an emergency (break-glass) grant lasts. */
  BREAK_GLASS_MINUTES: z.coerce.number().int().min(5).max(240).default(60),
  /**
   * Two-person rule: a change that lets an account read PHI, made by an admin who invited or changed that
   * account within this many days, waits for a second person; a held change expires after PENDING_CHANGE_DAYS.
   */
  TWO_PERSON_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  PENDING_CHANGE_DAYS: z.coerce.number().int().min(1).max(30).default(7),
  KMS_DATA_KEY_ID: z.string().min(1),
  /** Signs audit checkpoints; only the checkpoint writer and verifier need these two. */
  KMS_AUDIT_SIGNING_KEY_ID: z.string().min(1).optional(),
  /** Signing keys replaced by KMS_AUDIT_SIGNING_KEY_ID whose checkpoints still verify (comma-separated). */
  KMS_AUDIT_RETIRED_SIGNING_KEY_IDS: csv,
  BUCKET_CHECKPOINTS: z.string().min(3).optional(),
  CHECKPOINT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(2555),
  /** Compliance reports: their index rows and their bucket (only report code needs these; shared/compliance/store.ts). */
  TABLE_REPORTS: z.string().min(3).optional(),
  BUCKET_REPORTS: z.string().min(3).optional(),
  /** Object Lock retention of each report's objects: §164.316(b)(2)(i) keeps documentation 6 years. */
  REPORT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(DOCUMENTATION_RETENTION_DAYS)
    .max(3650)
    .default(DOCUMENTATION_RETENTION_DAYS),
  USER_POOL_ID: z.string().min(1),
  USER_POOL_CLIENT_ID: z.string().min(1),
  /** Token issuer; defaults to the regional Cognito issuer for USER_POOL_ID. */
  COGNITO_ISSUER: optionalUrl,
  /** JWKS location; defaults to `${issuer}/.well-known/jwks.json`. */
  COGNITO_JWKS_URL: optionalUrl,
  /**
   * How long a function keeps the pool's token keys (read from the records table, where the
   * `refreshTokenKeys` job stores them) before reading them again; a token naming a key not among them
   * forces one earlier read (shared/auth/token-keys.ts).
   */
  TOKEN_KEYS_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  ALLOWED_ORIGINS: csv,
  DATA_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  DATA_KEY_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).max(100_000).default(1000),
  AUDIT_SHARDS: z.coerce.number().int().min(1).max(MAX_AUDIT_SHARDS).default(32),
  /** Entries the verifier reads per query (one page: checked, then its progress saved). */
  AUDIT_VERIFY_PAGE: z.coerce.number().int().min(1).max(10_000).default(1000),
  /** Chains (and checkpoint reads) the verifier works on at once. */
  AUDIT_VERIFY_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(DEFAULT_MAX_BODY_BYTES),
  LIST_PAGE_MAX: z.coerce.number().int().min(1).max(LIST_PAGE_BOUND).default(50),
  /** How long a list cursor stays usable after it was issued. */
  CURSOR_MAX_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(24 * 3600),
  /** DetectPHI calls in flight at once for one transcript (Comprehend Medical's default quota: 100 per second). */
  PHI_DETECT_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  LOG_LEVEL: z.enum(["DEBUG", "INFO", "WARN", "ERROR", "SILENT"]).default("INFO"),
  ENDPOINT_DYNAMODB: optionalUrl,
  ENDPOINT_S3: optionalUrl,
  ENDPOINT_KMS: optionalUrl,
  ENDPOINT_COGNITO: optionalUrl,
  ENDPOINT_COMPREHENDMEDICAL: optionalUrl,
  ENDPOINT_LAMBDA: optionalUrl,
  ENDPOINT_SNS: optionalUrl,
  /**
   * Services the compliance checks read (permission `compliance:inspect`) and no local stand-in serves: the
   * local stack sets none of these, so a check on one of them says so (`shared/aws` standInOf).
   */
  ENDPOINT_CLOUDTRAIL: optionalUrl,
  ENDPOINT_WAFV2: optionalUrl,
  ENDPOINT_CLOUDWATCHLOGS: optionalUrl,
  ENDPOINT_BACKUP: optionalUrl,
  /**
   * The alarm topic security findings are published to: set only for the functions that raise findings
   * (permission `security:alert`); a finding raised without it waits in the outbox for the job that has it.
   */
  ALARM_TOPIC_ARN: z.string().min(1).max(256).optional(),
  /**
   * What the infrastructure compliance checks inspect (shared/compliance/checks/infrastructure.ts), set only
   * for functions holding `compliance:inspect`; a check whose subject is not set is `not_evaluated` saying so.
   */
  /** The symmetric keys besides the data key, by purpose (infra/cloud/keys.ts). */
  INSPECT_KMS_STORAGE_KEY_ID: z.string().min(1).optional(),
  INSPECT_KMS_LOGS_KEY_ID: z.string().min(1).optional(),
  INSPECT_KMS_TRAIL_KEY_ID: z.string().min(1).optional(),
  INSPECT_KMS_BACKUPS_KEY_ID: z.string().min(1).optional(),
  /** The stage's CloudTrail trail (or the organization trail that covers the account). */
  INSPECT_TRAIL_ARN: z.string().min(1).optional(),
  /** The REST API's stage and the user pool, as the resources their web ACLs are associated with. */
  INSPECT_API_STAGE_ARN: z.string().min(1).optional(),
  INSPECT_USER_POOL_ARN: z.string().min(1).optional(),
  INSPECT_BACKUP_VAULT: z.string().min(1).optional(),
  /** Prefixes of the stage's log group names (comma-separated), and the retention each must keep at least. */
  INSPECT_LOG_GROUP_PREFIXES: csv,
  INSPECT_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3653).default(365),
  /** The alarm topic whose subscriptions must be confirmed (not ALARM_TOPIC_ARN: that one means "may publish"). */
  INSPECT_ALARM_TOPIC_ARN: z.string().min(1).max(256).optional(),
  /** How long an AWS call may take to connect, and to answer once sent, before it counts as failed. */
  AWS_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).default(2_000),
  AWS_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8_000),
  /** Functions are named `<prefix><id>` (a job started by name, see shared/jobs). */
  FUNCTION_NAME_PREFIX: z.string().min(1).default("coachvault-local-"),
});

export type Config = z.infer<typeof ConfigSchema> & { COGNITO_ISSUER: string; COGNITO_JWKS_URL: string };

let cached: Config | undefined;

export { ConfigError };

/** Parses settings from an environment map. Error messages name the variables, never their values. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => issue.path.join(".")).join(", ");
    throw new ConfigError(`Invalid or missing settings: ${names}`);
  }
  const settings = result.data;
  const issuer =
    settings.COGNITO_ISSUER ??
    `https://cognito-idp.${settings.AWS_REGION}.amazonaws.com/${settings.USER_POOL_ID}`;
  return {
    ...settings,
    COGNITO_ISSUER: issuer,
    COGNITO_JWKS_URL: settings.COGNITO_JWKS_URL ?? `${issuer}/.well-known/jwks.json`,
  };
}

export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Forgets the parsed settings so the next `getConfig()` reads the environment again (tools and tests). */
export function resetConfig(): void {
  cached = undefined;
}
