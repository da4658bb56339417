import type { ITableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { VERIFICATION_PARTITION_PATTERN } from "../../functions/audit/verification";
import { HELD_CHANGE_PARTITION_PATTERN } from "../../shared/access/two-person";
import { DISCLOSURE_PARTITION_PATTERN } from "../../shared/audit/chain";
import { TOKEN_KEYS_PARTITION_PATTERN } from "../../shared/auth/token-keys";
import { CURSOR_KEY_CONTEXT, CURSOR_KEY_ITEM } from "../../shared/crypto/cursor-key";
import { DIGEST_KEY_CONTEXT, DIGEST_KEY_ITEM } from "../../shared/crypto/digest-key";
import { idempotencyKeyPrefix, type Permission } from "../../shared/http/route";
import { LIMIT_PARTITION_PATTERN, PRINCIPAL_LIMIT_PARTITION_PATTERN } from "../../shared/protection/buckets";
import { OUTBOX_PARTITION } from "../../shared/security/events";
import { TABLES, type TableName } from "../resources";

/**
 * Each manifest permission as the narrowest IAM statements that cover it. The audit table gets
 * PutItem and Query only: a function can append entries but never update or delete one.
 */
export type PermissionTargets = {
  tables: Record<TableName, ITableV2>;
  dataKey: IKey;
  storageKey: IKey;
  region: string;
  userPoolArn: string;
  transcriptsBucket: IBucket;
  checkpointsBucket: IBucket;
  reportsBucket: IBucket;
  signingKey: IKey;
  /** Signing keys the current one replaced: their checkpoints still verify (`retiredSigningKeyArns`). */
  retiredSigningKeyArns: readonly string[];
  /** The ARN of a job's function, by its id in `functions/jobs.ts`. */
  jobFunctionArn: (jobId: string) => string;
  /** The alarm topic findings are published to, and the key it is encrypted with (the logs key). */
  alarmTopicArn: string;
  alarmTopicKey: IKey;
  /** What `compliance:inspect` reads; given to the jobs only (`InspectionTargets`). */
  inspection?: InspectionTargets;
};

/**
 * The stage's resources the infrastructure compliance checks read (shared/compliance/checks/infrastructure.ts),
 * as ARNs and names: one object gives both the IAM statements (`statementsFor`) and the settings the checks
 * read them under (`inspectionEnvironment`).
 */
export type InspectionTargets = {
  /** The stage's keys by purpose (keys.ts): the symmetric ones must rotate; the signing key is described. */
  keyArns: {
    data: string;
    storage: string;
    logs: string;
    trail: string;
    backups: string;
    auditSigning: string;
  };
  /** The trail covering the stage: its own, or the organization trail. */
  trailArn: string;
  /** The REST API's stage and the user pool, as the resources their web ACLs are associated with. */
  apiStageArn: string;
  userPoolArn: string;
  /** The web ACLs that may be associated with them (waf.ts names them by stage). */
  webAclArns: readonly string[];
  backupVault: { name: string; arn: string };
  /** The buckets whose settings are checked, by the role the checks name them with (`reports` when it exists). */
  buckets: Readonly<Record<string, IBucket>>;
  /** Prefixes of the stage's log group names, and the retention each must keep at least (the stage's). */
  logGroupPrefixes: readonly string[];
  logRetentionDays: number;
  alarmTopicArn: string;
};

/** The read-only actions of `compliance:inspect`, by service (each scoped to the stage's resources below). */
export const INSPECTION_ACTIONS = {
  kms: ["kms:DescribeKey", "kms:GetKeyRotationStatus"],
  dynamodb: ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"],
  s3: [
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
  ],
  cognito: ["cognito-idp:DescribeUserPool", "cognito-idp:GetWebACLForResource"],
  cloudtrail: ["cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"],
  wafv2: ["wafv2:GetWebACLForResource", "wafv2:GetWebACL"],
  apigateway: ["apigateway:GET"],
  sns: ["sns:GetTopicAttributes"],
} as const;

/** The settings the checks read the targets under (shared/config `INSPECT_*`, `BUCKET_REPORTS`). */
export function inspectionEnvironment(inspection: InspectionTargets): Record<string, string> {
  return {
    INSPECT_KMS_STORAGE_KEY_ID: inspection.keyArns.storage,
    INSPECT_KMS_LOGS_KEY_ID: inspection.keyArns.logs,
    INSPECT_KMS_TRAIL_KEY_ID: inspection.keyArns.trail,
    INSPECT_KMS_BACKUPS_KEY_ID: inspection.keyArns.backups,
    INSPECT_TRAIL_ARN: inspection.trailArn,
    INSPECT_API_STAGE_ARN: inspection.apiStageArn,
    INSPECT_USER_POOL_ARN: inspection.userPoolArn,
    INSPECT_BACKUP_VAULT: inspection.backupVault.name,
    INSPECT_LOG_GROUP_PREFIXES: inspection.logGroupPrefixes.join(","),
    INSPECT_LOG_RETENTION_DAYS: String(inspection.logRetentionDays),
    INSPECT_ALARM_TOPIC_ARN: inspection.alarmTopicArn,
    ...(inspection.buckets.reports && { BUCKET_REPORTS: inspection.buckets.reports.bucketName }),
  };
}

export function inspectionTargets(targets: PermissionTargets): InspectionTargets {
  if (!targets.inspection)
    throw new Error(
      "compliance:inspect is a jobs' permission: the API stage it inspects is built from the routes",
    );
  return targets.inspection;
}

const JOB_START = "jobs:start:";

/** The operations Powertools Idempotency's DynamoDB persistence layer calls (`idempotency:use`). */
export const IDEMPOTENCY_TABLE_ACTIONS = ["PutItem", "GetItem", "UpdateItem", "DeleteItem"];

/**
 * The user pool, split by what a compromised function could do with it: creating accounts (which could
 * plant one carrying any org) is the invitation job's alone; making an account follow the directory
 * (group, enabled) is what changing a person needs. Neither reads an account by address but creation.
 */
export const COGNITO_CREATE_USERS = ["AdminCreateUser", "AdminGetUser"] as const;
export const COGNITO_SYNC_USERS = [
  "AdminListGroupsForUser",
  "AdminAddUserToGroup",
  "AdminRemoveUserFromGroup",
  "AdminDisableUser",
  "AdminEnableUser",
] as const;

const ENCRYPTION_CONTEXT_CONDITIONS = {
  // Data keys only for a concrete client: both context keys present, and no others.
  "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["orgId", "clientId"] },
  Null: { "kms:EncryptionContext:orgId": "false", "kms:EncryptionContext:clientId": "false" },
};

/**
 * Partitions of the records table that general record writes never reach: a client's disclosure pointers,
 * which only an append writes (with its entry, `audit:append`; changing or deleting one would hide an
 * access from the client's accounting until the next verification from genesis), verification jobs'
 * state, which only the verification job writes (`audit:verification`; a report or progress written by
 * anyone else would decide what a verification says), and the user pool's token keys, which only the
 * refresh job writes (`auth:token-keys`; a key written by anyone else would let its holder sign tokens
 * for any org and role).
 */
export const GUARDED_RECORD_PARTITIONS = [
  DISCLOSURE_PARTITION_PATTERN,
  VERIFICATION_PARTITION_PATTERN,
  TOKEN_KEYS_PARTITION_PATTERN,
];

function recordsWriteStatement(table: ITableV2, actions: string[]) {
  const statement = tableStatement(table, actions);
  statement.addCondition("ForAllValues:StringNotLike", { "dynamodb:LeadingKeys": GUARDED_RECORD_PARTITIONS });
  return statement;
}

function tableStatement(table: ITableV2, actions: string[], indexes: readonly string[] = []) {
  return new PolicyStatement({
    effect: Effect.ALLOW,
    actions: actions.map((action) => `dynamodb:${action}`),
    resources: [table.tableArn, ...indexes.map((index) => `${table.tableArn}/index/${index}`)],
  });
}

/** Actions on a table's items whose partition keys all match `pattern` (IAM `dynamodb:LeadingKeys`). */
const onPartitions =
  (operator: "ForAllValues:StringLike" | "ForAllValues:StringEquals") =>
  (table: ITableV2, actions: string[], pattern: string) =>
    new PolicyStatement({
      actions: actions.map((action) => `dynamodb:${action}`),
      resources: [table.tableArn],
      conditions: { [operator]: { "dynamodb:LeadingKeys": [pattern] } },
    });
const partitionsLike = onPartitions("ForAllValues:StringLike");

/** Actions on a table's items whose partition keys all match one of `patterns`. */
const onPartitionsLike = (table: ITableV2, actions: string[], patterns: readonly string[]) =>
  new PolicyStatement({
    actions: actions.map((action) => `dynamodb:${action}`),
    resources: [table.tableArn],
    conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [...patterns] } },
  });

/** The settings table's org documents (shared/settings `orgSettingsId`), not the platform's. */
export const SETTINGS_ORG_PARTITION_PATTERN = "ORG#*";

/** The security table's partitions of signals and of findings (shared/security), as IAM patterns. */
export const SIGNAL_PARTITION_PATTERNS = ["ORG#*#SIGNALS", "PLATFORM#SIGNALS"];
export const EVENT_PARTITION_PATTERNS = ["ORG#*#EVENTS", "PLATFORM#EVENTS"];
const partitionsEqual = onPartitions("ForAllValues:StringEquals");

/** Only the stream's own ARN: the same four actions Lambda's event source mapping polls with. */
function streamStatement(table: ITableV2) {
  return new PolicyStatement({
    actions: ["DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"].map((a) => `dynamodb:${a}`),
    resources: [table.tableStreamArn as string],
  });
}

/** The security table's partitions the detectors write: their state and their findings (never signals). */
/** The detectors' own state; their findings go through `security:findings` like every finding. */
export const DETECTOR_PARTITIONS = ["ORG#*#DETECT", "PLATFORM#DETECT"];

export function statementsFor(
  permission: Permission,
  targets: PermissionTargets,
  /** The function the statements are for (a route's idempotency records are its own). */
  owner: { handler: string },
): PolicyStatement[] {
  const { tables } = targets;
  if (permission.startsWith(JOB_START)) {
    const jobId = permission.slice(JOB_START.length);
    return [
      new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [targets.jobFunctionArn(jobId)] }),
    ];
  }
  switch (permission) {
    case "records:read":
      return [tableStatement(tables.records, ["GetItem", "BatchGetItem", "Query"])];
    case "records:write":
      return [recordsWriteStatement(tables.records, ["PutItem", "ConditionCheckItem"])];
    case "records:update":
      return [recordsWriteStatement(tables.records, ["UpdateItem"])];
    case "records:delete":
      return [recordsWriteStatement(tables.records, ["DeleteItem"])];
    case "directory:read":
      return [
        tableStatement(
          tables.directory,
          ["GetItem", "BatchGetItem", "Query"],
          TABLES.directory.indexes.map((index) => index.name),
        ),
      ];
    case "directory:write":
      return [
        tableStatement(tables.directory, ["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"]),
      ];
    case "changes:hold":
      // Held changes only: approving one applies it as its requester, but no person's item is reachable.
      return [partitionsLike(tables.directory, ["PutItem", "UpdateItem"], HELD_CHANGE_PARTITION_PATTERN)];
    case "cognito:create-users":
      return [
        new PolicyStatement({
          actions: COGNITO_CREATE_USERS.map((action) => `cognito-idp:${action}`),
          resources: [targets.userPoolArn],
        }),
      ];
    case "cognito:sync-users":
      return [
        new PolicyStatement({
          actions: COGNITO_SYNC_USERS.map((action) => `cognito-idp:${action}`),
          resources: [targets.userPoolArn],
        }),
      ];
    case "cognito:read-users":
      return [
        new PolicyStatement({
          actions: ["cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser"],
          resources: [targets.userPoolArn],
        }),
      ];
    case "transcripts:read":
      return [
        new PolicyStatement({
          actions: ["s3:GetObject"],
          resources: [targets.transcriptsBucket.arnForObjects("*")],
        }),
      ];
    case "transcripts:write":
      return [
        new PolicyStatement({
          actions: ["s3:PutObject"],
          resources: [targets.transcriptsBucket.arnForObjects("*")],
        }),
      ];
    case "transcripts:delete":
      // DeleteObject only: in the versioned bucket it leaves a delete marker. No DeleteObjectVersion, so
      // no function can destroy a version; the bucket's lifecycle expires noncurrent versions.
      return [
        new PolicyStatement({
          actions: ["s3:DeleteObject"],
          resources: [targets.transcriptsBucket.arnForObjects("*")],
        }),
      ];
    case "phi:detect":
      // Comprehend Medical has no resource-level permissions: DetectPHI is granted by the stack's one shared
      // policy for it (functions.ts, `WILDCARD_ONLY`), never with `*` on a function's own policy.
      return [];
    case "keys:read":
      return [tableStatement(tables.keys, ["GetItem"])];
    case "keys:read-many":
      return [tableStatement(tables.keys, ["GetItem", "BatchGetItem"])];
    case "keys:create":
      return [tableStatement(tables.keys, ["PutItem"])];
    case "audit:append":
      return [
        tableStatement(tables.audit, ["PutItem", "Query"]),
        // A writer that reads a chain's head checks it against what the live witness recorded.
        tableStatement(tables.witness, ["GetItem"]),
        // The disclosure pointers each append writes for the clients its entry names, and nothing else.
        partitionsLike(tables.records, ["PutItem"], DISCLOSURE_PARTITION_PATTERN),
      ];
    case "audit:verification":
      return [partitionsLike(tables.records, ["PutItem"], VERIFICATION_PARTITION_PATTERN)];
    case "auth:token-keys":
      return [partitionsEqual(tables.records, ["PutItem"], TOKEN_KEYS_PARTITION_PATTERN)];
    case "auth:read-token-keys":
      return [partitionsEqual(tables.records, ["GetItem", "Query"], TOKEN_KEYS_PARTITION_PATTERN)];
    case "limits:consume":
      return [
        // The caller's bucket (`ORG#<org>#USER#<user>`, with its block and strikes) and the org's (`ORG#<org>`):
        // an update with a condition is the only operation the limiter needs. IAM cannot tell one org's key
        // from another's (a function serves every org), nor a consume from a lift of a block by the update's
        // expression (so a consume path also checks what it reads back: shared/protection/buckets.ts).
        // The signals it observes (denials, refusals, blocks) go through `security:signal`, which every
        // route behind the authorizer holds.
        partitionsLike(tables.limits, ["UpdateItem"], LIMIT_PARTITION_PATTERN),
      ];
    case "limits:unblock":
      // Lifting a block removes it and the strikes in an update (the bucket stays): principals' items only.
      return [partitionsLike(tables.limits, ["UpdateItem"], PRINCIPAL_LIMIT_PARTITION_PATTERN)];
    case "settings:read":
      // The org is known only at run time (from the token), so IAM cannot pin the item to the caller's org:
      // any function holding this reads any org's settings (and the platform's). They hold no PHI.
      return [tableStatement(tables.settings, ["GetItem"])];
    case "settings:write":
      // Not pinned to one org (only PATCH /settings holds it, and it writes the token's org only), but to
      // the orgs' documents: never the platform default (`PLATFORM`), which every org without its own reads.
      // LeadingKeys is the partition key, whatever its name (`id` here).
      return [partitionsLike(tables.settings, ["PutItem"], SETTINGS_ORG_PARTITION_PATTERN)];
    case "audit:read":
      return [
        tableStatement(
          tables.audit,
          ["Query", "BatchGetItem"],
          TABLES.audit.indexes.map((index) => index.name),
        ),
      ];
    case "audit:stream":
      return [streamStatement(tables.audit)];
    case "security:stream":
      return [streamStatement(tables.security)];
    case "security:detect":
      // Detector state only (findings go through `security:findings`): a detector can never forge or erase a
      // signal it judges.
      return DETECTOR_PARTITIONS.map((pattern) =>
        partitionsLike(tables.security, ["GetItem", "PutItem", "UpdateItem", "Query"], pattern),
      );
    case "witness:read":
      return [tableStatement(tables.witness, ["GetItem", "BatchGetItem"])];
    case "witness:write":
      return [tableStatement(tables.witness, ["GetItem", "BatchGetItem", "UpdateItem"])];
    case "checkpoints:read":
      // Versions too: the verifier reads exactly the version it lists and flags a key holding more than one.
      return [
        new PolicyStatement({
          actions: ["s3:ListBucket", "s3:ListBucketVersions"],
          resources: [targets.checkpointsBucket.bucketArn],
        }),
        new PolicyStatement({
          actions: ["s3:GetObject", "s3:GetObjectVersion"],
          resources: [targets.checkpointsBucket.arnForObjects("*")],
        }),
      ];
    case "checkpoints:write":
      return [
        new PolicyStatement({
          actions: ["s3:PutObject", "s3:PutObjectRetention"],
          resources: [targets.checkpointsBucket.arnForObjects("*")],
        }),
      ];
    case "kms:sign-checkpoints":
    case "kms:sign-reports":
      return [new PolicyStatement({ actions: ["kms:Sign"], resources: [targets.signingKey.keyArn] })];
    case "reports:list":
      return [tableStatement(tables.reports, ["GetItem", "Query"])];
    case "reports:read":
      return [
        tableStatement(tables.reports, ["GetItem", "Query"]),
        new PolicyStatement({
          actions: ["s3:GetObject"],
          resources: [targets.reportsBucket.arnForObjects("*")],
        }),
      ];
    case "reports:request":
      return [tableStatement(tables.reports, ["PutItem", "UpdateItem"])];
    case "reports:write":
      // New objects only (a report's are written once, under Object Lock): no DeleteObject, no version access.
      return [
        tableStatement(tables.reports, ["PutItem", "UpdateItem", "ConditionCheckItem"]),
        new PolicyStatement({
          actions: ["s3:PutObject", "s3:PutObjectRetention"],
          resources: [targets.reportsBucket.arnForObjects("*")],
        }),
      ];
    case "kms:verify-checkpoints":
      return [
        new PolicyStatement({
          actions: ["kms:GetPublicKey"],
          resources: [targets.signingKey.keyArn, ...targets.retiredSigningKeyArns],
        }),
      ];
    case "kms:generate-data-key":
      return [
        new PolicyStatement({
          actions: ["kms:GenerateDataKey"],
          resources: [targets.dataKey.keyArn],
          conditions: ENCRYPTION_CONTEXT_CONDITIONS,
        }),
      ];
    case "kms:decrypt-data-key":
      return [
        new PolicyStatement({
          actions: ["kms:Decrypt"],
          resources: [targets.dataKey.keyArn],
          conditions: ENCRYPTION_CONTEXT_CONDITIONS,
        }),
      ];
    case "cursors:seal":
      // The one keys-table item that holds the wrapped cursor key, and KMS only under its own context.
      return [
        new PolicyStatement({
          actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
          resources: [tables.keys.tableArn],
          conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [CURSOR_KEY_ITEM.pk] } },
        }),
        new PolicyStatement({
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: [targets.dataKey.keyArn],
          conditions: {
            StringEquals: { "kms:EncryptionContext:purpose": CURSOR_KEY_CONTEXT.purpose },
            "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": Object.keys(CURSOR_KEY_CONTEXT) },
          },
        }),
      ];
    case "security:signal":
      return [onPartitionsLike(tables.security, ["PutItem"], SIGNAL_PARTITION_PATTERNS)];
    case "security:findings":
      // TransactWriteItems needs each item's own action: the id marker and the finding (conditional puts),
      // the outbox item; the outbox is also read and emptied.
      return [
        onPartitionsLike(
          tables.security,
          ["PutItem", "ConditionCheckItem"],
          [...EVENT_PARTITION_PATTERNS, OUTBOX_PARTITION],
        ),
        onPartitionsLike(tables.security, ["Query", "DeleteItem"], [OUTBOX_PARTITION]),
      ];
    case "security:read":
      return [onPartitionsLike(tables.security, ["Query"], EVENT_PARTITION_PATTERNS)];
    case "security:observe":
      return [
        onPartitionsLike(tables.security, ["GetItem", "Query"], DETECTOR_PARTITIONS),
        onPartitionsLike(tables.security, ["Query"], [OUTBOX_PARTITION]),
      ];
    case "security:alert":
      // The topic is encrypted with the logs key: a publisher needs it, through SNS only.
      return [
        new PolicyStatement({ actions: ["sns:Publish"], resources: [targets.alarmTopicArn] }),
        new PolicyStatement({
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: [targets.alarmTopicKey.keyArn],
          conditions: { StringEquals: { "kms:ViaService": `sns.${targets.region}.amazonaws.com` } },
        }),
      ];
    case "compliance:inspect": {
      // Read-only, each on the stage's own resources. Listing backup jobs and describing log groups accept no
      // resource but "*": they come from the stack's shared policy for them (functions.ts, WILDCARD_ONLY).
      const inspection = inspectionTargets(targets);
      return [
        new PolicyStatement({
          actions: [...INSPECTION_ACTIONS.kms],
          resources: [...new Set(Object.values(inspection.keyArns))],
        }),
        new PolicyStatement({
          actions: [...INSPECTION_ACTIONS.dynamodb],
          resources: Object.values(tables).map((table) => table.tableArn),
        }),
        new PolicyStatement({
          actions: [...INSPECTION_ACTIONS.s3],
          resources: Object.values(inspection.buckets).map((bucket) => bucket.bucketArn),
        }),
        new PolicyStatement({
          actions: [...INSPECTION_ACTIONS.cognito],
          resources: [inspection.userPoolArn],
        }),
        new PolicyStatement({
          actions: [...INSPECTION_ACTIONS.cloudtrail],
          resources: [inspection.trailArn],
        }),
        new PolicyStatement({
          actions: [...INSPECTION_ACTIONS.wafv2],
          resources: [...inspection.webAclArns, inspection.apiStageArn, inspection.userPoolArn],
        }),
        new PolicyStatement({
          actions: [...INSPECTION_ACTIONS.apigateway],
          resources: [inspection.apiStageArn],
        }),
        new PolicyStatement({ actions: [...INSPECTION_ACTIONS.sns], resources: [inspection.alarmTopicArn] }),
      ];
    }
    case "idempotency:use":
      return [
        // What Powertools Idempotency's DynamoDB persistence does: a conditional put, a consistent get, the
        // update that stores the answer, the delete after a failure. Nothing else, on nothing else: only on its
        // own records (`<prefix>#<hash>`), so a compromised function cannot overwrite another route's answers.
        partitionsLike(tables.idempotency, IDEMPOTENCY_TABLE_ACTIONS, `${idempotencyKeyPrefix(owner)}#*`),
        // The deployment's digest key, as `cursors:seal` has the cursor key: its one item, its own context.
        new PolicyStatement({
          actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
          resources: [tables.keys.tableArn],
          conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [DIGEST_KEY_ITEM.pk] } },
        }),
        new PolicyStatement({
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: [targets.dataKey.keyArn],
          conditions: {
            StringEquals: { "kms:EncryptionContext:purpose": DIGEST_KEY_CONTEXT.purpose },
            "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": Object.keys(DIGEST_KEY_CONTEXT) },
          },
        }),
      ];
    default:
      throw new Error(`no IAM statements for permission ${permission}`);
  }
}

/** Tables and buckets are encrypted with the storage key: usable only through DynamoDB and S3, never directly. */
export function storageKeyStatement(targets: PermissionTargets): PolicyStatement {
  return new PolicyStatement({
    actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
    resources: [targets.storageKey.keyArn],
    conditions: {
      StringEquals: {
        "kms:ViaService": [`dynamodb.${targets.region}.amazonaws.com`, `s3.${targets.region}.amazonaws.com`],
      },
    },
  });
}

/** The AWS services a function reaches to use a permission: what a VPC without internet needs endpoints for. */
export type AwsService =
  | "dynamodb"
  | "s3"
  | "kms"
  | "cognito-idp"
  | "comprehendmedical"
  | "lambda"
  | "sns"
  | "cloudtrail"
  | "wafv2"
  | "backup";
const SERVICES_BY_PREFIX: Readonly<Record<string, readonly AwsService[]>> = {
  records: ["dynamodb"],
  directory: ["dynamodb"],
  changes: ["dynamodb"],
  keys: ["dynamodb"],
  audit: ["dynamodb"],
  witness: ["dynamodb"],
  security: ["dynamodb"],
  settings: ["dynamodb"],
  transcripts: ["s3"],
  checkpoints: ["s3"],
  reports: ["dynamodb", "s3"],
  kms: ["kms"],
  cursors: ["kms", "dynamodb"],
  idempotency: ["kms", "dynamodb"],
  auth: ["dynamodb"],
  limits: ["dynamodb"],
  cognito: ["cognito-idp"],
  phi: ["comprehendmedical"],
  jobs: ["lambda"],
};

export function servicesOf(permission: Permission): readonly AwsService[] {
  // A stream is read by Lambda's event source mapping on the function's behalf, never by the function.
  if (permission === "audit:stream" || permission === "security:stream") return [];
  if (permission === "security:alert") return ["sns"];
  // CloudWatch Logs' endpoint every function has; the others get theirs from this list, so the report job
  // (which also reads PHI samples, and so stays inside the VPC) reaches every service it inspects.
  if (permission === "compliance:inspect")
    return ["kms", "dynamodb", "s3", "cognito-idp", "sns", "cloudtrail", "wafv2", "backup"];
  const services = SERVICES_BY_PREFIX[permission.slice(0, permission.indexOf(":"))];
  if (!services) throw new Error(`no AWS service known for permission ${permission}`);
  return services;
}
