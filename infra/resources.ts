import { PASSWORD_POLICY } from "../shared/auth/password-policy";
import { ROLES } from "../shared/auth/roles";
import { DOCUMENTATION_RETENTION_DAYS } from "../shared/config";

/**
 * The resources both worlds create: the CDK app (`infra/cloud`) turns these into CloudFormation, the
 * local stack (`infra/local`) into DynamoDB Local tables, s3rver buckets and a cognito-local pool.
 * One definition, so local and cloud cannot drift apart.
 */
export type KeyAttribute = { name: string; type: "S" | "N" };
export type TableDefinition = {
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes?: readonly { name: string; partitionKey: KeyAttribute; sortKey: KeyAttribute }[];
  /** A DynamoDB stream of every change (new and old images), for the stream jobs of `functions/jobs.ts`. */
  stream?: "NEW_AND_OLD_IMAGES";
  /**
   * The attribute (epoch seconds) after which DynamoDB's TTL removes an item, for tables of short-lived
   * state. TTL removes late (within days), so code never trusts an item's presence alone: it compares the
   * attribute with the time itself.
   */
  timeToLive?: string;
  /** Purpose, for the reader and for resource descriptions. */
  holds: string;
};

export const TABLES = {
  records: {
    holds: "clients and other PHI records (fields sealed per client)",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
  },
  directory: {
    holds:
      "the people: users, invitations, changes held by the two-person rule, the org registry and Cognito's sync queue",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
    // gsi1 lists a lead's team (gsi1pk = ORG#<org>#LEAD#<leadId>) and an org's pending changes.
    indexes: [
      {
        name: "gsi1",
        partitionKey: { name: "gsi1pk", type: "S" },
        sortKey: { name: "gsi1sk", type: "S" },
      },
    ],
  },
  keys: {
    holds: "wrapped per-client data keys (delete one to crypto-shred a client)",
    partitionKey: { name: "pk", type: "S" },
  },
  audit: {
    holds: "hash-chained audit entries, append-only",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "seq", type: "N" },
    // Compliance queries over an org's entries by time, and over one user's (`at` = time#chain#seq).
    indexes: [
      { name: "byOrg", partitionKey: { name: "org", type: "S" }, sortKey: { name: "at", type: "S" } },
      { name: "byActor", partitionKey: { name: "actor", type: "S" }, sortKey: { name: "at", type: "S" } },
    ],
    // The live witness reads every insert, change and removal within seconds.
    stream: "NEW_AND_OLD_IMAGES",
  },
  witness: {
    holds: "the audit chain heads the live witness has seen (only it writes here; the checkpoint job reads)",
    partitionKey: { name: "pk", type: "S" },
  },
  settings: {
    holds:
      "tenant settings: the platform default and one document per org (read through Powertools Parameters)",
    // `id` is the Powertools Parameters DynamoDB provider's key attribute: `PLATFORM` or `ORG#<org>`.
    partitionKey: { name: "id", type: "S" },
  },
  limits: {
    holds: "rate-limit buckets and blocks per principal and per org (no PHI)",
    partitionKey: { name: "pk", type: "S" },
    timeToLive: "expiresAt",
  },
  idempotency: {
    holds: "Idempotency-Key records of Powertools Idempotency (responses that carry PHI are sealed)",
    // Powertools Idempotency's DynamoDB persistence: key `id`, expiry `expiration` (its defaults).
    partitionKey: { name: "id", type: "S" },
    timeToLive: "expiration",
  },
  security: {
    holds: "security signals, detector state and findings, partitioned by org (ids and counts, never PHI)",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
    // Signals (denials, blocks, failed sign-ins) reach the detectors within seconds.
    stream: "NEW_AND_OLD_IMAGES",
    timeToLive: "expiresAt",
  },
  reports: {
    holds:
      "compliance reports' index rows per org (status, score, counts, object keys, the JSON's SHA-256, what checks carried forward; no PHI)",
    // pk = ORG#<org>, sk = REPORT#<reportId>: report ids are UUIDv7, so the sort key orders reports by time.
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "S" },
  },
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof TABLES;

export const BUCKETS = {
  transcripts: {
    holds: "client-side encrypted session transcripts",
    objectLock: false,
    /**
     * Days a deleted or replaced transcript object stays as a noncurrent version (then expires): as long
     * as DynamoDB point-in-time recovery reaches back (35 days), so a restored record finds its objects.
     */
    noncurrentVersionDays: 35,
  },
  checkpoints: {
    holds: "signed audit checkpoints (Object Lock, compliance mode)",
    objectLock: true,
    /** The stage's audit retention (`auditRetentionDays`, 7 years by default) decides. */
    retentionDays: "audit",
  },
  reports: {
    holds: "signed compliance reports: JSON, HTML and signature (Object Lock, compliance mode)",
    objectLock: true,
    /** §164.316(b)(2)(i): documentation of the security program is kept 6 years. */
    retentionDays: DOCUMENTATION_RETENTION_DAYS,
  },
} as const;

export type BucketName = keyof typeof BUCKETS;

/** A bucket's Object Lock default retention in days: its own, or the stage's audit retention. */
export const objectLockDays = (name: BucketName, auditRetentionDays: number): number | undefined => {
  const spec = BUCKETS[name];
  if (!spec.objectLock) return undefined;
  return spec.retentionDays === "audit" ? auditRetentionDays : spec.retentionDays;
};

export const USER_POOL = {
  passwordPolicy: PASSWORD_POLICY,
  groups: ROLES,
  /** Set once at invitation; immutable so a user can never move themselves to another org. */
  customAttributes: { orgId: { minLen: 2, maxLen: 63, mutable: false } },
  mfa: "ON",
  /**
   * What a signed-in user may read and change about themselves through the app client (with their own
   * access token). Never `email`: the directory and the invitation flow know people by it, and a
   * self-changed address could collide with another org's invitation or mislead an admin. Cognito
   * addresses accounts by their immutable username, so even a changed email breaks nothing.
   */
  appClient: {
    readAttributes: ["email", "email_verified", "locale", "zoneinfo", "custom:orgId"],
    writeAttributes: ["locale", "zoneinfo"],
  },
  tokenValidityMinutes: { id: 60, access: 60 },
  refreshTokenValidityMinutes: 12 * 60,
} as const;

export const resourceName = (stage: string, name: string) => `coachvault-${stage}-${name}`;

/** The two CloudFormation stacks of a deployed stage (infra/cloud/app.ts); the smoke test reads their outputs. */
export const stackNames = (stage: string) => ({
  stateful: `CoachVault-${stage}-Stateful`,
  stateless: `CoachVault-${stage}-Stateless`,
});

/** The settings every function receives, given the concrete names of its resources. */
export function functionEnvironment(names: {
  stage: string;
  tables: Record<TableName, string>;
  buckets: Record<BucketName, string>;
  kmsDataKeyId: string;
  kmsAuditSigningKeyId: string;
  userPoolId: string;
  userPoolClientId: string;
  allowedOrigins: readonly string[];
}): Record<string, string> {
  return {
    STAGE: names.stage,
    TABLE_RECORDS: names.tables.records,
    TABLE_DIRECTORY: names.tables.directory,
    TABLE_KEYS: names.tables.keys,
    TABLE_AUDIT: names.tables.audit,
    TABLE_WITNESS: names.tables.witness,
    TABLE_SETTINGS: names.tables.settings,
    TABLE_LIMITS: names.tables.limits,
    TABLE_IDEMPOTENCY: names.tables.idempotency,
    TABLE_SECURITY: names.tables.security,
    TABLE_REPORTS: names.tables.reports,
    BUCKET_TRANSCRIPTS: names.buckets.transcripts,
    BUCKET_CHECKPOINTS: names.buckets.checkpoints,
    BUCKET_REPORTS: names.buckets.reports,
    KMS_DATA_KEY_ID: names.kmsDataKeyId,
    KMS_AUDIT_SIGNING_KEY_ID: names.kmsAuditSigningKeyId,
    USER_POOL_ID: names.userPoolId,
    USER_POOL_CLIENT_ID: names.userPoolClientId,
    ALLOWED_ORIGINS: names.allowedOrigins.join(","),
    FUNCTION_NAME_PREFIX: resourceName(names.stage, ""),
  };
}
