/**
 * The settings every function's configuration requires (`shared/config`), with made-up resource names: for
 * unit tests that parse a configuration without a stack.
 */
export const FUNCTION_ENV = {
  TABLE_RECORDS: "t-records",
  TABLE_DIRECTORY: "t-directory",
  TABLE_KEYS: "t-keys",
  TABLE_AUDIT: "t-audit",
  TABLE_WITNESS: "t-witness",
  TABLE_SETTINGS: "t-settings",
  TABLE_LIMITS: "t-limits",
  TABLE_IDEMPOTENCY: "t-idempotency",
  TABLE_SECURITY: "t-security",
  BUCKET_TRANSCRIPTS: "b-transcripts",
  BUCKET_CHECKPOINTS: "b-checkpoints",
  BUCKET_REPORTS: "b-reports",
  KMS_DATA_KEY_ID: "arn:aws:kms:us-east-1:111122223333:key/data",
  KMS_AUDIT_SIGNING_KEY_ID: "arn:aws:kms:us-east-1:111122223333:key/signing",
  USER_POOL_ID: "us-east-1_pool",
  USER_POOL_CLIENT_ID: "client",
} as const;
