import { type BackupJob, ListBackupJobsCommand } from "@aws-sdk/client-backup";
import { GetEventSelectorsCommand, GetTrailCommand, GetTrailStatusCommand } from "@aws-sdk/client-cloudtrail";
import { DescribeLogGroupsCommand, type LogGroup } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeUserPoolCommand, type UserPoolType } from "@aws-sdk/client-cognito-identity-provider";
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { DescribeKeyCommand, GetKeyRotationStatusCommand } from "@aws-sdk/client-kms";
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  GetPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { GetTopicAttributesCommand } from "@aws-sdk/client-sns";
import { GetWebACLForResourceCommand } from "@aws-sdk/client-wafv2";
import { PASSWORD_POLICY } from "../../auth/password-policy";
import { aws } from "../../aws";
import type { Config } from "../../config";
import { type CheckContext, type CheckDefinition, failed, notEvaluated, passed, passIf } from "../check";
import { absentOn, everySubject, inspection, notConfigured, subjectsOf } from "./inspect";

/**
 * Checks over the AWS account's configuration, read through the SDK with read-only permissions
 * (`compliance:inspect`, infra/cloud/permissions.ts). Evidence is resource roles, names, ARNs, flags and
 * counts. Locally each runs against its service's stand-in where one exists and models the property.
 */

const DAY_MS = 24 * 3600 * 1000;

// ---- KMS ----------------------------------------------------------------------------------------------

/** The symmetric keys of infra/cloud/keys.ts, by purpose: each must rotate yearly. */
const symmetricKeys = (config: Config) => ({
  data: config.KMS_DATA_KEY_ID,
  storage: config.INSPECT_KMS_STORAGE_KEY_ID,
  logs: config.INSPECT_KMS_LOGS_KEY_ID,
  trail: config.INSPECT_KMS_TRAIL_KEY_ID,
  backups: config.INSPECT_KMS_BACKUPS_KEY_ID,
});

const SIGNING_KEY_NOTE =
  "asymmetric (ECDSA P-256): KMS cannot rotate it; it is replaced by a new key and the replaced one's ARN " +
  "kept in KMS_AUDIT_RETIRED_SIGNING_KEY_IDS so older checkpoints still verify";

const keyRotation = inspection({
  id: "infra.kms-key-rotation",
  title: "The customer-managed symmetric KMS keys rotate automatically",
  hipaa: "164.312(a)(2)(iv)",
  severity: "high",
  weight: 2,
  remediation:
    "Enable automatic rotation on every symmetric key of the stage (EnableKeyRotation; the CDK app sets enableKeyRotation on each): a key that never rotates protects years of PHI with one secret.",
  service: "kms",
  inspect: async (_context, config) => {
    const kms = aws("kms");
    const subjects = subjectsOf(symmetricKeys(config));
    const outcome = await everySubject(
      subjects,
      async (keyId) => {
        // DescribeKey takes an alias too; the rotation status wants the key itself.
        const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
        const arn = KeyMetadata?.Arn ?? keyId;
        const status = await kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }));
        return {
          holds: status.KeyRotationEnabled === true && KeyMetadata?.KeySpec === "SYMMETRIC_DEFAULT",
          detail: {
            arn,
            rotation: status.KeyRotationEnabled === true,
            ...(status.RotationPeriodInDays !== undefined && { periodDays: status.RotationPeriodInDays }),
          },
        };
      },
      "KMS_DATA_KEY_ID",
    );
    if (outcome.status !== "pass" && outcome.status !== "fail") return outcome;
    const signing = config.KMS_AUDIT_SIGNING_KEY_ID
      ? (await kms.send(new DescribeKeyCommand({ KeyId: config.KMS_AUDIT_SIGNING_KEY_ID }))).KeyMetadata
      : undefined;
    const evidence = {
      ...outcome.evidence,
      auditSigningKey: SIGNING_KEY_NOTE,
      ...(signing && {
        "auditSigningKey.arn": signing.Arn ?? null,
        "auditSigningKey.spec": signing.KeySpec ?? null,
      }),
    };
    return outcome.status === "pass" ? passed(evidence) : failed(evidence);
  },
});

// ---- DynamoDB -----------------------------------------------------------------------------------------

/** Every table the functions are configured with (`TABLE_*`), by its setting's suffix. */
const tablesOf = (config: Config) =>
  Object.fromEntries(
    Object.entries(config)
      .filter(([setting]) => setting.startsWith("TABLE_"))
      .map(([setting, name]) => [setting.slice("TABLE_".length).toLowerCase(), String(name)]),
  );

const describedTables = (context: CheckContext, config: Config) =>
  context.memo("infra:dynamodb:describe", async () => {
    const described = new Map<string, TableDescription | undefined>();
    for (const [role, name] of Object.entries(tablesOf(config))) {
      const { Table } = await aws("dynamoRaw").send(new DescribeTableCommand({ TableName: name }));
      described.set(role, Table);
    }
    return described;
  });

/** The described tables as subjects: each named and probed by its role. */
const describedRoles = (tables: Map<string, unknown>) =>
  subjectsOf(Object.fromEntries([...tables.keys()].map((role) => [role, role])));

const tableEncryption = inspection({
  id: "infra.dynamodb-customer-key",
  title: "Every table is encrypted at rest with the stage's customer-managed key",
  hipaa: "164.312(a)(2)(iv)",
  severity: "critical",
  weight: 3,
  remediation:
    "Encrypt each table with the stage's storage key (TableEncryptionV2.customerManagedKey in infra/cloud/data.ts): an AWS-owned key cannot be audited or revoked.",
  service: "dynamoRaw",
  standInCannot: "DynamoDB Local does not encrypt tables at rest (it models no server-side encryption)",
  inspect: async (context, config) => {
    const tables = await describedTables(context, config);
    const expectedKey = config.INSPECT_KMS_STORAGE_KEY_ID;
    return everySubject(
      describedRoles(tables),
      async (role) => {
        const sse = tables.get(role)?.SSEDescription;
        const customerKey =
          sse?.Status === "ENABLED" && sse.SSEType === "KMS" && sse.KMSMasterKeyArn !== undefined;
        return {
          holds: customerKey && (expectedKey === undefined || sse?.KMSMasterKeyArn === expectedKey),
          detail: { sse: sse?.SSEType ?? "AWS_OWNED", key: sse?.KMSMasterKeyArn ?? null },
        };
      },
      "TABLE_*",
    );
  },
});

const pointInTimeRecovery = inspection({
  id: "infra.dynamodb-pitr",
  title: "Point-in-time recovery is on for every table",
  hipaa: "164.308(a)(7)(ii)(A)",
  severity: "high",
  weight: 3,
  remediation:
    "Turn on point-in-time recovery for every table (pointInTimeRecoverySpecification in infra/cloud/data.ts): without it a bad write or a deletion cannot be undone to the second.",
  service: "dynamoRaw",
  standInCannot: "DynamoDB Local keeps no continuous backups (point-in-time recovery is not modeled)",
  inspect: async (_context, config) =>
    everySubject(
      subjectsOf(tablesOf(config)),
      async (name) => {
        const { ContinuousBackupsDescription } = await aws("dynamoRaw").send(
          new DescribeContinuousBackupsCommand({ TableName: name }),
        );
        const recovery = ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
        return {
          holds: recovery?.PointInTimeRecoveryStatus === "ENABLED",
          detail: {
            pitr: recovery?.PointInTimeRecoveryStatus ?? "DISABLED",
            earliestRestorable: recovery?.EarliestRestorableDateTime?.toISOString() ?? null,
          },
        };
      },
      "TABLE_*",
    ),
});

const deletionProtection = inspection({
  id: "infra.dynamodb-deletion-protection",
  title: "Deletion protection is on for every table",
  hipaa: "164.312(c)(1)",
  severity: "high",
  weight: 2,
  remediation:
    "Turn on deletion protection for every table (the stage's removalPolicy retain sets it, infra/cloud/lifecycle.ts): a stage holding PHI must not lose a table to one API call.",
  service: "dynamoRaw",
  inspect: async (context, config) => {
    const tables = await describedTables(context, config);
    const unreported = [...tables].filter(([, table]) => table?.DeletionProtectionEnabled === undefined);
    if (unreported.length === tables.size)
      return notEvaluated("the table descriptions carry no deletion protection flag");
    return everySubject(
      describedRoles(tables),
      async (role) => ({ holds: tables.get(role)?.DeletionProtectionEnabled === true }),
      "TABLE_*",
    );
  },
});

// ---- AWS Backup ---------------------------------------------------------------------------------------

/** The plan backs up daily: the latest finished job must be younger than this. */
export const BACKUP_MAX_AGE_HOURS = 36;
const FINISHED_STATES = new Set(["COMPLETED", "FAILED", "ABORTED", "EXPIRED", "PARTIAL"]);

const lastBackup = inspection({
  id: "infra.backup-last-job-succeeded",
  title: `The latest backup job of the vault completed within ${BACKUP_MAX_AGE_HOURS} hours`,
  hipaa: "164.308(a)(7)(ii)(A)",
  severity: "high",
  weight: 3,
  remediation:
    "Find why the latest backup job of the stage's vault failed or did not run (AWS Backup console, the vault's jobs; the BackupJobsFailed alarm) and run one on demand: a backup plan that does not complete is no exact copy.",
  service: "backup",
  inspect: async ({ now }, config) => {
    const vault = config.INSPECT_BACKUP_VAULT;
    if (!vault) return notConfigured("INSPECT_BACKUP_VAULT");
    const jobs: BackupJob[] = [];
    let token: string | undefined;
    do {
      const page = await aws("backup").send(
        new ListBackupJobsCommand({
          ByBackupVaultName: vault,
          ByCreatedAfter: new Date(now.getTime() - 3 * DAY_MS),
          ...(token && { NextToken: token }),
        }),
      );
      jobs.push(...(page.BackupJobs ?? []));
      token = page.NextToken;
    } while (token);
    const finished = jobs
      .filter((job) => job.State && FINISHED_STATES.has(job.State))
      .sort((a, b) => (b.CreationDate?.getTime() ?? 0) - (a.CreationDate?.getTime() ?? 0));
    const latest = finished[0];
    const failedJobs = finished.filter((job) => job.State !== "COMPLETED").length;
    const evidence = {
      vault,
      jobsInLast3Days: jobs.length,
      failedInLast3Days: failedJobs,
      latestJobId: latest?.BackupJobId ?? null,
      latestState: latest?.State ?? null,
      latestCompletedAt: latest?.CompletionDate?.toISOString() ?? null,
    };
    const fresh =
      latest?.State === "COMPLETED" &&
      latest.CompletionDate !== undefined &&
      now.getTime() - latest.CompletionDate.getTime() <= BACKUP_MAX_AGE_HOURS * 3600 * 1000;
    return passIf(fresh, evidence);
  },
});

// ---- S3 -----------------------------------------------------------------------------------------------

const S3_STAND_IN = "s3rver (the local S3) does not model";

const bucketsOf = (config: Config) => ({
  transcripts: config.BUCKET_TRANSCRIPTS,
  checkpoints: config.BUCKET_CHECKPOINTS,
  reports: config.BUCKET_REPORTS,
});
const lockedBucketsOf = (config: Config) => ({
  checkpoints: config.BUCKET_CHECKPOINTS,
  reports: config.BUCKET_REPORTS,
});
const BUCKET_SETTINGS = "BUCKET_TRANSCRIPTS, BUCKET_CHECKPOINTS, BUCKET_REPORTS";

const bucketEncryption = inspection({
  id: "infra.s3-kms-encryption",
  title: "Every PHI and evidence bucket encrypts new objects with the stage's KMS key",
  hipaa: "164.312(a)(2)(iv)",
  severity: "critical",
  weight: 3,
  remediation:
    "Set default encryption to SSE-KMS with the stage's storage key on the bucket (BucketEncryption.KMS in infra/cloud/data.ts).",
  service: "s3",
  standInCannot: `${S3_STAND_IN} default bucket encryption`,
  inspect: async (_context, config) =>
    everySubject(
      subjectsOf(bucketsOf(config)),
      async (bucket) => {
        const answer = await absentOn(aws("s3").send(new GetBucketEncryptionCommand({ Bucket: bucket })), [
          "ServerSideEncryptionConfigurationNotFoundError",
        ]);
        const rule =
          answer?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
        const kms = rule?.SSEAlgorithm === "aws:kms" || rule?.SSEAlgorithm === "aws:kms:dsse";
        const expectedKey = config.INSPECT_KMS_STORAGE_KEY_ID;
        return {
          holds: kms && (expectedKey === undefined || rule?.KMSMasterKeyID === expectedKey),
          detail: { algorithm: rule?.SSEAlgorithm ?? null, key: rule?.KMSMasterKeyID ?? null },
        };
      },
      BUCKET_SETTINGS,
    ),
});

const publicAccessBlocked = inspection({
  id: "infra.s3-public-access-blocked",
  title: "Every bucket blocks all public access",
  hipaa: "164.312(a)(1)",
  severity: "critical",
  weight: 3,
  remediation:
    "Turn on all four public access block settings on the bucket (BlockPublicAccess.BLOCK_ALL), and on the account.",
  service: "s3",
  standInCannot: `${S3_STAND_IN} public access blocks`,
  inspect: async (_context, config) =>
    everySubject(
      subjectsOf(bucketsOf(config)),
      async (bucket) => {
        const answer = await absentOn(aws("s3").send(new GetPublicAccessBlockCommand({ Bucket: bucket })), [
          "NoSuchPublicAccessBlockConfiguration",
        ]);
        const block = answer?.PublicAccessBlockConfiguration;
        const flags = [
          block?.BlockPublicAcls,
          block?.IgnorePublicAcls,
          block?.BlockPublicPolicy,
          block?.RestrictPublicBuckets,
        ];
        return {
          holds: flags.every((flag) => flag === true),
          detail: { blocked: flags.filter(Boolean).length },
        };
      },
      BUCKET_SETTINGS,
    ),
});

const versioning = inspection({
  id: "infra.s3-versioning",
  title: "Versioning is on for every bucket",
  hipaa: "164.312(c)(1)",
  severity: "high",
  weight: 2,
  remediation: "Enable versioning on the bucket: an overwritten or deleted object must stay recoverable.",
  service: "s3",
  standInCannot: `${S3_STAND_IN} versioning`,
  inspect: async (_context, config) =>
    everySubject(
      subjectsOf(bucketsOf(config)),
      async (bucket) => {
        const { Status } = await aws("s3").send(new GetBucketVersioningCommand({ Bucket: bucket }));
        return { holds: Status === "Enabled", detail: { versioning: Status ?? "Never enabled" } };
      },
      BUCKET_SETTINGS,
    ),
});

/** A bucket's Object Lock as the checks read it: enabled, its default mode and retention (days or years). */
export async function objectLockOf(bucket: string) {
  const answer = await absentOn(aws("s3").send(new GetObjectLockConfigurationCommand({ Bucket: bucket })), [
    "ObjectLockConfigurationNotFoundError",
  ]);
  const configuration = answer?.ObjectLockConfiguration;
  const retention = configuration?.Rule?.DefaultRetention;
  return {
    enabled: configuration?.ObjectLockEnabled === "Enabled",
    mode: retention?.Mode,
    days: retention?.Days,
    years: retention?.Years,
  };
}

const objectLock = inspection({
  id: "infra.s3-object-lock",
  title: "The audit checkpoints and reports buckets are under Object Lock in compliance mode",
  hipaa: "164.312(c)(1)",
  severity: "critical",
  weight: 3,
  remediation:
    "Create the bucket with Object Lock and a default retention in COMPLIANCE mode (a stage in governance mode lets a privileged principal delete evidence).",
  service: "s3",
  standInCannot: `${S3_STAND_IN} Object Lock`,
  inspect: async (_context, config) =>
    everySubject(
      subjectsOf(lockedBucketsOf(config)),
      async (bucket) => {
        const lock = await objectLockOf(bucket);
        return {
          holds: lock.enabled && lock.mode === "COMPLIANCE",
          detail: {
            objectLock: lock.enabled,
            mode: lock.mode ?? null,
            retentionDays: lock.days ?? null,
            retentionYears: lock.years ?? null,
          },
        };
      },
      "BUCKET_CHECKPOINTS, BUCKET_REPORTS",
    ),
});

type PolicyStatement = {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

/** A statement that denies every request made without TLS (what `enforceSSL` writes). */
export const deniesInsecureTransport = (statement: PolicyStatement): boolean => {
  const secure = statement.Condition?.Bool?.["aws:SecureTransport"];
  const actions = [statement.Action ?? []].flat();
  const everyone =
    statement.Principal === "*" ||
    (typeof statement.Principal === "object" &&
      statement.Principal !== null &&
      [(statement.Principal as { AWS?: unknown }).AWS].flat().includes("*"));
  return (
    statement.Effect === "Deny" &&
    everyone &&
    actions.includes("s3:*") &&
    [secure].flat().map(String).includes("false")
  );
};

const tlsOnly = inspection({
  id: "infra.s3-tls-only",
  title: "Every bucket's policy refuses requests made without TLS",
  hipaa: "164.312(e)(1)",
  severity: "high",
  weight: 2,
  remediation:
    'Add the bucket policy statement that denies s3:* to everyone when aws:SecureTransport is "false" (enforceSSL).',
  service: "s3",
  standInCannot: `${S3_STAND_IN} bucket policies`,
  inspect: async (_context, config) =>
    everySubject(
      subjectsOf(bucketsOf(config)),
      async (bucket) => {
        const answer = await absentOn(aws("s3").send(new GetBucketPolicyCommand({ Bucket: bucket })), [
          "NoSuchBucketPolicy",
        ]);
        const statements = [
          (answer?.Policy ? JSON.parse(answer.Policy) : {}).Statement ?? [],
        ].flat() as PolicyStatement[];
        return {
          holds: statements.some(deniesInsecureTransport),
          detail: { policy: answer?.Policy !== undefined, statements: statements.length },
        };
      },
      BUCKET_SETTINGS,
    ),
});

// ---- Cognito ------------------------------------------------------------------------------------------

const userPool = (context: CheckContext, config: Config) =>
  context.memo("infra:cognito:describe-user-pool", async (): Promise<UserPoolType> => {
    const { UserPool } = await aws("cognito").send(
      new DescribeUserPoolCommand({ UserPoolId: config.USER_POOL_ID }),
    );
    if (!UserPool) throw new Error("DescribeUserPool returned no pool");
    return UserPool;
  });

const mfaRequired = inspection({
  id: "infra.cognito-mfa-required",
  title: "The user pool requires multi-factor authentication of every user",
  hipaa: "164.312(d)",
  severity: "critical",
  weight: 3,
  remediation:
    'Set the user pool\'s MFA configuration to "ON" (required, TOTP), as infra/cloud/auth.ts does.',
  service: "cognito",
  inspect: async (context, config) => {
    const pool = await userPool(context, config);
    return passIf(pool.MfaConfiguration === "ON", {
      userPoolId: config.USER_POOL_ID,
      mfaConfiguration: pool.MfaConfiguration ?? "OFF",
    });
  },
});

const passwordPolicy = inspection({
  id: "infra.cognito-password-policy",
  title: `The user pool's password policy is at least the product's (${PASSWORD_POLICY.minLength}+ characters, four classes)`,
  hipaa: "164.308(a)(5)(ii)(D)",
  severity: "medium",
  weight: 2,
  remediation: `Set the pool's password policy to at least ${PASSWORD_POLICY.minLength} characters with lower case, upper case, digits and symbols required.`,
  service: "cognito",
  inspect: async (context, config) => {
    const policy = (await userPool(context, config)).Policies?.PasswordPolicy;
    if (!policy) return failed({ userPoolId: config.USER_POOL_ID, passwordPolicy: false });
    const evidence = {
      userPoolId: config.USER_POOL_ID,
      minimumLength: policy.MinimumLength ?? 0,
      requiredMinimumLength: PASSWORD_POLICY.minLength,
      lowercase: policy.RequireLowercase === true,
      uppercase: policy.RequireUppercase === true,
      digits: policy.RequireNumbers === true,
      symbols: policy.RequireSymbols === true,
    };
    return passIf(
      evidence.minimumLength >= PASSWORD_POLICY.minLength &&
        (evidence.lowercase || !PASSWORD_POLICY.requireLowercase) &&
        (evidence.uppercase || !PASSWORD_POLICY.requireUppercase) &&
        (evidence.digits || !PASSWORD_POLICY.requireDigits) &&
        (evidence.symbols || !PASSWORD_POLICY.requireSymbols),
      evidence,
    );
  },
});

const threatProtection = inspection({
  id: "infra.cognito-threat-protection",
  title: "The user pool's threat protection enforces (compromised credentials, adaptive authentication)",
  hipaa: "164.308(a)(5)(ii)(C)",
  severity: "high",
  weight: 2,
  remediation:
    "Set the pool's threat protection (advanced security) to ENFORCED on the Plus feature plan: audit-only mode records risky sign-ins but lets them through.",
  service: "cognito",
  standInCannot: "cognito-local does not implement threat protection (advanced security)",
  inspect: async (context, config) => {
    const mode = (await userPool(context, config)).UserPoolAddOns?.AdvancedSecurityMode;
    return passIf(mode === "ENFORCED", {
      userPoolId: config.USER_POOL_ID,
      advancedSecurityMode: mode ?? "OFF",
    });
  },
});

// ---- CloudTrail ---------------------------------------------------------------------------------------

const trailLogging = inspection({
  id: "infra.cloudtrail-logging",
  title: "The CloudTrail trail is logging and delivering",
  hipaa: "164.312(b)",
  severity: "critical",
  weight: 3,
  remediation:
    "Start logging on the stage's trail (StartLogging) and fix its latest delivery error (the bucket policy or the trail key's policy).",
  service: "cloudTrail",
  inspect: async (_context, config) => {
    const trail = config.INSPECT_TRAIL_ARN;
    if (!trail) return notConfigured("INSPECT_TRAIL_ARN");
    const status = await aws("cloudTrail").send(new GetTrailStatusCommand({ Name: trail }));
    return passIf(status.IsLogging === true && !status.LatestDeliveryError, {
      trail,
      isLogging: status.IsLogging === true,
      latestDelivery: status.LatestDeliveryTime?.toISOString() ?? null,
      latestDeliveryError: status.LatestDeliveryError ?? null,
    });
  },
});

const trailValidation = inspection({
  id: "infra.cloudtrail-log-file-validation",
  title: "The trail validates its log files and encrypts them with a customer-managed key",
  hipaa: "164.312(c)(2)",
  severity: "high",
  weight: 2,
  remediation:
    "Enable log file validation on the trail (digest files let an auditor prove no log file was changed or removed) and encrypt it with the stage's trail key.",
  service: "cloudTrail",
  inspect: async (_context, config) => {
    const trail = config.INSPECT_TRAIL_ARN;
    if (!trail) return notConfigured("INSPECT_TRAIL_ARN");
    const { Trail } = await aws("cloudTrail").send(new GetTrailCommand({ Name: trail }));
    return passIf(Trail?.LogFileValidationEnabled === true && Trail.KmsKeyId !== undefined, {
      trail,
      logFileValidation: Trail?.LogFileValidationEnabled === true,
      kmsKey: Trail?.KmsKeyId ?? null,
      multiRegion: Trail?.IsMultiRegionTrail === true,
    });
  },
});

/** The data event resource types the trail must record: object-level S3 and item-level DynamoDB access. */
export const DATA_EVENT_TYPES = ["AWS::S3::Object", "AWS::DynamoDB::Table"] as const;

const trailDataEvents = inspection({
  id: "infra.cloudtrail-data-events",
  title: "The trail records data events on the PHI buckets' objects and the tables' items",
  hipaa: "164.312(b)",
  severity: "high",
  weight: 3,
  remediation:
    "Add data event selectors for AWS::S3::Object and AWS::DynamoDB::Table on the stage's buckets and tables (PhiDataEventSelectors in infra/cloud/trail.ts): management events alone never show who read PHI.",
  service: "cloudTrail",
  inspect: async (_context, config) => {
    const trail = config.INSPECT_TRAIL_ARN;
    if (!trail) return notConfigured("INSPECT_TRAIL_ARN");
    const answer = await aws("cloudTrail").send(new GetEventSelectorsCommand({ TrailName: trail }));
    const recorded = new Set<string>();
    for (const selector of answer.AdvancedEventSelectors ?? []) {
      const fields = selector.FieldSelectors ?? [];
      const isData = fields.some(
        (field) => field.Field === "eventCategory" && field.Equals?.includes("Data"),
      );
      if (!isData) continue;
      for (const field of fields)
        if (field.Field === "resources.type") for (const type of field.Equals ?? []) recorded.add(type);
    }
    for (const selector of answer.EventSelectors ?? [])
      for (const resource of selector.DataResources ?? []) if (resource.Type) recorded.add(resource.Type);
    const missing = DATA_EVENT_TYPES.filter((type) => !recorded.has(type));
    return passIf(missing.length === 0, {
      trail,
      dataEventTypes: [...recorded].sort(),
      missing,
      advancedSelectors: answer.AdvancedEventSelectors?.length ?? 0,
    });
  },
});

// ---- WAF ----------------------------------------------------------------------------------------------

const webAclOn =
  (resource: "API stage" | "user pool", setting: "INSPECT_API_STAGE_ARN" | "INSPECT_USER_POOL_ARN") =>
  async (_context: CheckContext, config: Config) => {
    const arn = config[setting];
    if (!arn) return notConfigured(setting);
    const { WebACL } = await aws("wafv2").send(new GetWebACLForResourceCommand({ ResourceArn: arn }));
    if (!WebACL)
      return failed({ resource: arn, webAcl: null }, `Associate the stage's web ACL with the ${resource}.`);
    return passed({
      resource: arn,
      webAcl: WebACL.ARN ?? WebACL.Name ?? null,
      rules: WebACL.Rules?.length ?? 0,
      defaultAction: WebACL.DefaultAction?.Block ? "block" : "allow",
    });
  };

const wafOnApi = inspection({
  id: "infra.waf-api",
  title: "A WAF web ACL protects the API stage",
  hipaa: "164.308(a)(5)(ii)(B)",
  severity: "high",
  weight: 2,
  remediation:
    "Associate the stage's web ACL (infra/cloud/waf.ts: managed rule groups, rate and body-size rules) with the API stage.",
  service: "wafv2",
  inspect: webAclOn("API stage", "INSPECT_API_STAGE_ARN"),
});

const wafOnUserPool = inspection({
  id: "infra.waf-user-pool",
  title: "A WAF web ACL protects the user pool's sign-in endpoints",
  hipaa: "164.308(a)(5)(ii)(B)",
  severity: "medium",
  weight: 2,
  remediation:
    "Associate the sign-in web ACL (infra/cloud/auth.ts SignInProtection: a rate rule per address) with the user pool.",
  service: "wafv2",
  inspect: webAclOn("user pool", "INSPECT_USER_POOL_ARN"),
});

// ---- CloudWatch Logs ----------------------------------------------------------------------------------

const logGroups = (context: CheckContext, config: Config) =>
  context.memo("infra:logs:describe", async () => {
    const groups: LogGroup[] = [];
    for (const prefix of config.INSPECT_LOG_GROUP_PREFIXES) {
      let token: string | undefined;
      do {
        const page = await aws("logs").send(
          new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, ...(token && { nextToken: token }) }),
        );
        groups.push(...(page.logGroups ?? []));
        token = page.nextToken;
      } while (token);
    }
    return groups;
  });

/** Names in evidence are capped: a count says how many, a few names say where to look. */
const EVIDENCE_NAMES = 10;
const someNames = (groups: readonly LogGroup[]) =>
  groups.slice(0, EVIDENCE_NAMES).map((group) => (group.logGroupName ?? "").slice(0, 128));

const overLogGroups =
  (decide: (group: LogGroup, config: Config) => boolean, label: string) =>
  async (context: CheckContext, config: Config) => {
    if (config.INSPECT_LOG_GROUP_PREFIXES.length === 0) return notConfigured("INSPECT_LOG_GROUP_PREFIXES");
    const groups = await logGroups(context, config);
    if (groups.length === 0)
      return notEvaluated(
        `no log group matches INSPECT_LOG_GROUP_PREFIXES (${config.INSPECT_LOG_GROUP_PREFIXES.length} prefixes)`,
      );
    const failing = groups.filter((group) => !decide(group, config));
    return passIf(failing.length === 0, {
      logGroups: groups.length,
      [label]: failing.length,
      ...(failing.length > 0 && { examples: someNames(failing) }),
    });
  };

const logRetention = inspection({
  id: "infra.logs-retention",
  title:
    "Every log group of the stage keeps its events for the configured retention, and not forever unmanaged",
  hipaa: "164.312(b)",
  severity: "medium",
  weight: 2,
  remediation:
    "Set a retention on each log group of at least the stage's logRetentionDays (a group that never expires grows unreviewed; a shorter one loses audit evidence).",
  service: "logs",
  inspect: overLogGroups(
    (group, config) =>
      group.retentionInDays !== undefined && group.retentionInDays >= config.INSPECT_LOG_RETENTION_DAYS,
    "withoutRetention",
  ),
});

const logEncryption = inspection({
  id: "infra.logs-kms-encryption",
  title: "Every log group of the stage is encrypted with the logs key",
  hipaa: "164.312(a)(2)(iv)",
  severity: "medium",
  weight: 2,
  remediation: "Associate the stage's logs key with the log group (AssociateKmsKey; encryptionKey in CDK).",
  service: "logs",
  inspect: overLogGroups(
    (group, config) =>
      group.kmsKeyId !== undefined &&
      (config.INSPECT_KMS_LOGS_KEY_ID === undefined || group.kmsKeyId === config.INSPECT_KMS_LOGS_KEY_ID),
    "unencrypted",
  ),
});

// ---- SNS ----------------------------------------------------------------------------------------------

const alarmSubscriptions = inspection({
  id: "infra.alarm-subscriptions-confirmed",
  title: "The alarm topic has a confirmed subscription and none pending",
  hipaa: "164.308(a)(6)(ii)",
  severity: "high",
  weight: 2,
  remediation:
    "Confirm the alarm topic's subscription (the email AWS sent to the stage's alarmEmail): until then no alarm or security finding reaches anyone.",
  service: "sns",
  standInCannot: "the local SNS endpoint serves Publish only: it models no subscriptions",
  inspect: async (_context, config) => {
    const topic = config.INSPECT_ALARM_TOPIC_ARN;
    if (!topic) return notConfigured("INSPECT_ALARM_TOPIC_ARN");
    const { Attributes } = await aws("sns").send(new GetTopicAttributesCommand({ TopicArn: topic }));
    const confirmed = Number(Attributes?.SubscriptionsConfirmed ?? 0);
    const pending = Number(Attributes?.SubscriptionsPending ?? 0);
    return passIf(confirmed > 0 && pending === 0, { topic, confirmed, pending });
  },
});

export const infrastructureChecks: readonly CheckDefinition[] = [
  keyRotation,
  tableEncryption,
  pointInTimeRecovery,
  deletionProtection,
  lastBackup,
  bucketEncryption,
  publicAccessBlocked,
  versioning,
  objectLock,
  tlsOnly,
  mfaRequired,
  passwordPolicy,
  threatProtection,
  trailLogging,
  trailValidation,
  trailDataEvents,
  wafOnApi,
  wafOnUserPool,
  logRetention,
  logEncryption,
  alarmSubscriptions,
];
