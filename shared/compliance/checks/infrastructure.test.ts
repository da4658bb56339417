import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FUNCTION_ENV } from "../../../test/support/function-env";
import { resetConfig } from "../../config";
import { BUILT_IN_SETTINGS } from "../../settings";
import { evaluateChecks } from "../evaluate";
import { CheckResultSchema } from "../report";
import { deniesInsecureTransport, infrastructureChecks } from "./infrastructure";

/**
 * Each check's decision against recorded SDK answers (the shapes the SDK returns for a healthy stage), then
 * with one answer weakened. The SDK clients are replaced by a recorder keyed by command name.
 */
type Input = Record<string, unknown>;
type Answer = unknown | ((input: Input) => unknown);
let answers: Record<string, Answer> = {};
const calls: { command: string; input: Record<string, unknown> }[] = [];

vi.mock("../../aws", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../aws")>();
  return {
    ...original,
    aws: () => ({
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const name = command.constructor.name.replace(/Command$/, "");
        calls.push({ command: name, input: command.input });
        const answer = answers[name];
        if (answer === undefined) throw new Error(`no recorded answer for ${name}`);
        const value = typeof answer === "function" ? answer(command.input) : answer;
        if (value instanceof Error) throw value;
        return value;
      },
    }),
  };
});

const STORAGE_KEY = "arn:aws:kms:us-east-1:111122223333:key/storage";
const LOGS_KEY = "arn:aws:kms:us-east-1:111122223333:key/logs";
const NOW = new Date("2026-11-24T12:00:00.000Z");

const BASE_ENV = FUNCTION_ENV;
const INSPECT_ENV = {
  INSPECT_KMS_STORAGE_KEY_ID: STORAGE_KEY,
  INSPECT_KMS_LOGS_KEY_ID: LOGS_KEY,
  INSPECT_KMS_TRAIL_KEY_ID: "arn:aws:kms:us-east-1:111122223333:key/trail",
  INSPECT_KMS_BACKUPS_KEY_ID: "arn:aws:kms:us-east-1:111122223333:key/backups",
  INSPECT_TRAIL_ARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/coachvault-prod",
  INSPECT_API_STAGE_ARN: "arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod",
  INSPECT_USER_POOL_ARN: "arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_pool",
  INSPECT_BACKUP_VAULT: "coachvault-0123456789ab",
  INSPECT_LOG_GROUP_PREFIXES: "CoachVault-prod-Stateful,CoachVault-prod-Stateless",
  INSPECT_LOG_RETENTION_DAYS: "365",
  INSPECT_ALARM_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:alarms",
};

const keyOf = (id: unknown) => String(id).split("/").at(-1);
/** What a healthy stage answers (as recorded from the SDK's output shapes). */
const healthy = (): Record<string, Answer> => ({
  DescribeKey: (input: Input) => ({
    KeyMetadata: {
      Arn: String(input.KeyId),
      KeySpec: keyOf(input.KeyId) === "signing" ? "ECC_NIST_P256" : "SYMMETRIC_DEFAULT",
    },
  }),
  GetKeyRotationStatus: { KeyRotationEnabled: true, RotationPeriodInDays: 365 },
  DescribeTable: (input: Input) => ({
    Table: {
      TableName: input.TableName,
      SSEDescription: { Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: STORAGE_KEY },
      DeletionProtectionEnabled: true,
    },
  }),
  DescribeContinuousBackups: {
    ContinuousBackupsDescription: {
      ContinuousBackupsStatus: "ENABLED",
      PointInTimeRecoveryDescription: {
        PointInTimeRecoveryStatus: "ENABLED",
        EarliestRestorableDateTime: new Date("2026-10-20T00:00:00.000Z"),
      },
    },
  },
  ListBackupJobs: {
    BackupJobs: [
      {
        BackupJobId: "job-new",
        State: "COMPLETED",
        CreationDate: new Date("2026-11-24T05:00:00.000Z"),
        CompletionDate: new Date("2026-11-24T05:20:00.000Z"),
      },
      {
        BackupJobId: "job-old",
        State: "COMPLETED",
        CreationDate: new Date("2026-11-23T05:00:00.000Z"),
        CompletionDate: new Date("2026-11-23T05:20:00.000Z"),
      },
    ],
  },
  GetBucketEncryption: {
    ServerSideEncryptionConfiguration: {
      Rules: [
        { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: STORAGE_KEY } },
      ],
    },
  },
  GetPublicAccessBlock: {
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    },
  },
  GetBucketVersioning: { Status: "Enabled" },
  GetObjectLockConfiguration: {
    ObjectLockConfiguration: {
      ObjectLockEnabled: "Enabled",
      Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 2555 } },
    },
  },
  GetBucketPolicy: {
    Policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "s3:*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
          Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        },
      ],
    }),
  },
  DescribeUserPool: {
    UserPool: {
      Id: "us-east-1_pool",
      MfaConfiguration: "ON",
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
      UserPoolAddOns: { AdvancedSecurityMode: "ENFORCED" },
    },
  },
  GetTrailStatus: { IsLogging: true, LatestDeliveryTime: new Date("2026-11-24T11:55:00.000Z") },
  GetTrail: {
    Trail: {
      LogFileValidationEnabled: true,
      KmsKeyId: INSPECT_ENV.INSPECT_KMS_TRAIL_KEY_ID,
      IsMultiRegionTrail: true,
    },
  },
  GetEventSelectors: {
    AdvancedEventSelectors: [
      {
        Name: "PHI objects",
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["Data"] },
          { Field: "resources.type", Equals: ["AWS::S3::Object"] },
        ],
      },
      {
        Name: "PHI tables",
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["Data"] },
          { Field: "resources.type", Equals: ["AWS::DynamoDB::Table"] },
        ],
      },
    ],
  },
  GetWebACLForResource: (input: Input) => ({
    WebACL: {
      Name: String(input.ResourceArn).includes("userpool") ? "coachvault-prod-sign-in" : "coachvault-prod",
      ARN: "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/coachvault-prod/id",
      Rules: [{ Name: "a" }, { Name: "b" }],
      DefaultAction: { Allow: {} },
    },
  }),
  DescribeLogGroups: (input: Input) => ({
    logGroups: [
      { logGroupName: `${input.logGroupNamePrefix}-FnLogs-1`, retentionInDays: 365, kmsKeyId: LOGS_KEY },
      { logGroupName: `${input.logGroupNamePrefix}-FnLogs-2`, retentionInDays: 731, kmsKeyId: LOGS_KEY },
    ],
  }),
  GetTopicAttributes: { Attributes: { SubscriptionsConfirmed: "1", SubscriptionsPending: "0" } },
});

const context = {
  orgId: "demo",
  period: { from: "2026-11-23T12:00:00.000Z", to: NOW.toISOString() },
  now: NOW,
  settings: BUILT_IN_SETTINGS,
  memo: <T>(_key: string, load: () => Promise<T>) => load(),
};

const run = async (ids?: readonly string[]) => {
  const checks = ids ? infrastructureChecks.filter((check) => ids.includes(check.id)) : infrastructureChecks;
  const { results } = await evaluateChecks(checks, context);
  for (const result of results)
    expect(CheckResultSchema.safeParse(result).error?.issues, result.id).toBeUndefined();
  return results;
};
const statusOf = async (id: string) => (await run([id]))[0];

/** The settings these tests set (a run's other projects may have left some, such as endpoints: put back after). */
const OWN_SETTINGS = /^(TABLE_|BUCKET_|KMS_|INSPECT_|ENDPOINT_|USER_POOL)/;
const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => OWN_SETTINGS.test(key)));
const setEnv = (env: Record<string, string | undefined>) => {
  for (const key of Object.keys(process.env)) if (OWN_SETTINGS.test(key)) delete process.env[key];
  Object.assign(process.env, env);
  resetConfig();
};

const named = (name: string) => Object.assign(new Error(name), { name });

describe("infrastructure checks in the cloud", () => {
  beforeEach(() => {
    setEnv({ ...BASE_ENV, ...INSPECT_ENV });
    answers = healthy();
    calls.length = 0;
  });
  afterEach(() => setEnv(inherited));

  it("cover 18-22 controls with Security Rule citations, and all pass on a healthy stage with evidence", async () => {
    expect(infrastructureChecks.length).toBeGreaterThanOrEqual(18);
    expect(infrastructureChecks.length).toBeLessThanOrEqual(22);
    expect(new Set(infrastructureChecks.map((check) => check.id)).size).toBe(infrastructureChecks.length);
    const results = await run();
    for (const result of results) {
      expect(result.status, result.id).toBe("pass");
      expect(Object.keys(result.evidence).length, result.id).toBeGreaterThan(0);
    }
    const rotation = results.find((result) => result.id === "infra.kms-key-rotation");
    expect(rotation?.evidence).toMatchObject({
      checked: ["data", "storage", "logs", "trail", "backups"],
      failing: [],
      auditSigningKey: expect.stringContaining("cannot rotate"),
      "auditSigningKey.spec": "ECC_NIST_P256",
    });
    // Read-only: every call the checks make is a Describe/Get/List.
    expect(calls.every((call) => /^(Describe|Get|List)/.test(call.command))).toBe(true);
  });

  const weakened: [id: string, command: string, answer: Answer][] = [
    [
      "infra.kms-key-rotation",
      "GetKeyRotationStatus",
      (input: Record<string, unknown>) => ({ KeyRotationEnabled: keyOf(input.KeyId) !== "logs" }),
    ],
    [
      "infra.dynamodb-customer-key",
      "DescribeTable",
      (input: Record<string, unknown>) => ({
        Table: { TableName: input.TableName, DeletionProtectionEnabled: true },
      }),
    ],
    [
      "infra.dynamodb-pitr",
      "DescribeContinuousBackups",
      {
        ContinuousBackupsDescription: {
          PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: "DISABLED" },
        },
      },
    ],
    [
      "infra.dynamodb-deletion-protection",
      "DescribeTable",
      (input: Record<string, unknown>) => ({
        Table: { TableName: input.TableName, DeletionProtectionEnabled: input.TableName !== "t-audit" },
      }),
    ],
    [
      "infra.backup-last-job-succeeded",
      "ListBackupJobs",
      {
        BackupJobs: [
          { BackupJobId: "j2", State: "FAILED", CreationDate: new Date("2026-11-24T05:00:00.000Z") },
          {
            BackupJobId: "j1",
            State: "COMPLETED",
            CreationDate: new Date("2026-11-23T05:00:00.000Z"),
            CompletionDate: new Date("2026-11-23T05:20:00.000Z"),
          },
        ],
      },
    ],
    ["infra.backup-last-job-succeeded", "ListBackupJobs", { BackupJobs: [] }],
    [
      "infra.s3-kms-encryption",
      "GetBucketEncryption",
      {
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
      },
    ],
    [
      "infra.s3-kms-encryption",
      "GetBucketEncryption",
      named("ServerSideEncryptionConfigurationNotFoundError"),
    ],
    [
      "infra.s3-public-access-blocked",
      "GetPublicAccessBlock",
      {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: false,
        },
      },
    ],
    ["infra.s3-public-access-blocked", "GetPublicAccessBlock", named("NoSuchPublicAccessBlockConfiguration")],
    ["infra.s3-versioning", "GetBucketVersioning", { Status: "Suspended" }],
    [
      "infra.s3-object-lock",
      "GetObjectLockConfiguration",
      {
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 2555 } },
        },
      },
    ],
    ["infra.s3-object-lock", "GetObjectLockConfiguration", named("ObjectLockConfigurationNotFoundError")],
    ["infra.s3-tls-only", "GetBucketPolicy", named("NoSuchBucketPolicy")],
    [
      "infra.s3-tls-only",
      "GetBucketPolicy",
      { Policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:*" }] }) },
    ],
    ["infra.cognito-mfa-required", "DescribeUserPool", { UserPool: { MfaConfiguration: "OPTIONAL" } }],
    [
      "infra.cognito-password-policy",
      "DescribeUserPool",
      {
        UserPool: {
          Policies: {
            PasswordPolicy: {
              MinimumLength: 8,
              RequireLowercase: true,
              RequireUppercase: true,
              RequireNumbers: true,
              RequireSymbols: true,
            },
          },
        },
      },
    ],
    [
      "infra.cognito-password-policy",
      "DescribeUserPool",
      {
        UserPool: {
          Policies: {
            PasswordPolicy: {
              MinimumLength: 16,
              RequireLowercase: true,
              RequireUppercase: true,
              RequireNumbers: true,
              RequireSymbols: false,
            },
          },
        },
      },
    ],
    [
      "infra.cognito-threat-protection",
      "DescribeUserPool",
      { UserPool: { UserPoolAddOns: { AdvancedSecurityMode: "AUDIT" } } },
    ],
    ["infra.cloudtrail-logging", "GetTrailStatus", { IsLogging: false }],
    ["infra.cloudtrail-logging", "GetTrailStatus", { IsLogging: true, LatestDeliveryError: "AccessDenied" }],
    [
      "infra.cloudtrail-log-file-validation",
      "GetTrail",
      { Trail: { LogFileValidationEnabled: false, KmsKeyId: "k" } },
    ],
    [
      "infra.cloudtrail-data-events",
      "GetEventSelectors",
      {
        AdvancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: "eventCategory", Equals: ["Data"] },
              { Field: "resources.type", Equals: ["AWS::S3::Object"] },
            ],
          },
          { FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
        ],
      },
    ],
    ["infra.waf-api", "GetWebACLForResource", {}],
    [
      "infra.waf-user-pool",
      "GetWebACLForResource",
      (input: Record<string, unknown>) => (String(input.ResourceArn).includes("userpool") ? {} : healthy()),
    ],
    [
      "infra.logs-retention",
      "DescribeLogGroups",
      {
        logGroups: [
          { logGroupName: "g1", kmsKeyId: LOGS_KEY },
          { logGroupName: "g2", retentionInDays: 30, kmsKeyId: LOGS_KEY },
        ],
      },
    ],
    [
      "infra.logs-kms-encryption",
      "DescribeLogGroups",
      { logGroups: [{ logGroupName: "g1", retentionInDays: 365 }] },
    ],
    [
      "infra.alarm-subscriptions-confirmed",
      "GetTopicAttributes",
      { Attributes: { SubscriptionsConfirmed: "0", SubscriptionsPending: "1" } },
    ],
  ];

  it.each(weakened)("%s fails when %s answers a weakened configuration", async (id, command, answer) => {
    answers[command] = answer;
    const result = await statusOf(id);
    expect(result?.status, JSON.stringify(result)).toBe("fail");
    expect(result?.remediation).toBeTruthy();
    expect(Object.keys(result?.evidence ?? {}).length).toBeGreaterThan(0);
  });

  it("names the failing subjects by role in the evidence", async () => {
    answers.GetKeyRotationStatus = (input: Record<string, unknown>) => ({
      KeyRotationEnabled: keyOf(input.KeyId) !== "logs",
    });
    answers.DescribeTable = (input: Record<string, unknown>) => ({
      Table: { TableName: input.TableName, DeletionProtectionEnabled: input.TableName !== "t-audit" },
    });
    const [rotation, protection] = await run([
      "infra.kms-key-rotation",
      "infra.dynamodb-deletion-protection",
    ]);
    expect(rotation?.evidence.failing).toEqual(["logs"]);
    expect(protection?.evidence.failing).toEqual(["audit"]);
  });

  it("a table or bucket encrypted with another customer key than the stage's storage key fails", async () => {
    answers.GetBucketEncryption = {
      ServerSideEncryptionConfiguration: {
        Rules: [
          { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: "arn:other" } },
        ],
      },
    };
    expect((await statusOf("infra.s3-kms-encryption"))?.status).toBe("fail");
  });

  it("is not_evaluated, saying which setting is missing, when its subject is not configured", async () => {
    setEnv(BASE_ENV);
    const results = await run([
      "infra.backup-last-job-succeeded",
      "infra.cloudtrail-logging",
      "infra.waf-api",
      "infra.waf-user-pool",
      "infra.logs-retention",
      "infra.alarm-subscriptions-confirmed",
    ]);
    for (const result of results) {
      expect(result.status, result.id).toBe("not_evaluated");
      expect(result.reason).toMatch(/^not configured: INSPECT_/);
    }
    // Partially configured: the rotation check names what it could not see and judges the rest.
    const rotation = await statusOf("infra.kms-key-rotation");
    expect(rotation?.status).toBe("pass");
    expect(rotation?.evidence.notConfigured).toEqual(["storage", "logs", "trail", "backups"]);
  });

  it("an unconfigured reports bucket is listed, not judged; a failing SDK call is not_evaluated, never pass", async () => {
    setEnv({ ...BASE_ENV, ...INSPECT_ENV, BUCKET_REPORTS: "" });
    delete process.env.BUCKET_REPORTS;
    resetConfig();
    const lock = await statusOf("infra.s3-object-lock");
    expect(lock?.status).toBe("pass");
    expect(lock?.evidence).toMatchObject({ checked: ["checkpoints"], notConfigured: ["reports"] });
    answers.GetTrail = named("AccessDeniedException");
    expect((await statusOf("infra.cloudtrail-log-file-validation"))?.status).toBe("not_evaluated");
  });

  it("no log group under the prefixes is not_evaluated (a wrong prefix proves nothing)", async () => {
    answers.DescribeLogGroups = { logGroups: [] };
    const result = await statusOf("infra.logs-retention");
    expect(result?.status).toBe("not_evaluated");
  });
});

describe("infrastructure checks against the local stack's configuration", () => {
  beforeEach(() => {
    setEnv({
      ...BASE_ENV,
      ENDPOINT_DYNAMODB: "http://127.0.0.1:1",
      ENDPOINT_S3: "http://127.0.0.1:2",
      ENDPOINT_KMS: "http://127.0.0.1:3",
      ENDPOINT_COGNITO: "http://127.0.0.1:4",
      ENDPOINT_SNS: "http://127.0.0.1:5",
    });
    answers = healthy();
    calls.length = 0;
  });
  afterEach(() => setEnv(inherited));

  it("a service without a stand-in is not_evaluated without a call; a stand-in that does not model the property too", async () => {
    const results = await run();
    const byId = Object.fromEntries(results.map((result) => [result.id, result]));
    expect(byId["infra.cloudtrail-logging"]?.reason).toBe("no local stand-in for CloudTrail");
    expect(byId["infra.waf-api"]?.reason).toBe("no local stand-in for WAF");
    expect(byId["infra.logs-retention"]?.reason).toBe("no local stand-in for CloudWatch Logs");
    expect(byId["infra.backup-last-job-succeeded"]?.reason).toBe("no local stand-in for AWS Backup");
    expect(byId["infra.s3-versioning"]?.reason).toMatch(/^s3rver .* does not model versioning/);
    expect(byId["infra.dynamodb-customer-key"]?.reason).toMatch(/^DynamoDB Local/);
    expect(byId["infra.alarm-subscriptions-confirmed"]?.reason).toMatch(/Publish only/);
    // Modeled locally: key rotation, MFA, password policy (and deletion protection when reported).
    expect(byId["infra.kms-key-rotation"]?.status).toBe("pass");
    expect(byId["infra.cognito-mfa-required"]?.status).toBe("pass");
    expect(
      calls.some((call) => /Trail|WebACL|LogGroups|BackupJobs|Bucket|TopicAttributes/.test(call.command)),
    ).toBe(false);
    for (const result of results) expect(["pass", "not_evaluated"], result.id).toContain(result.status);
  });

  it("a stand-in whose answer lacks the property is not_evaluated, not failed", async () => {
    answers.DescribeTable = (input: Record<string, unknown>) => ({ Table: { TableName: input.TableName } });
    const result = await statusOf("infra.dynamodb-deletion-protection");
    expect(result?.status).toBe("not_evaluated");
  });
});

describe("the TLS-only statement", () => {
  it("is a Deny of s3:* to everyone when aws:SecureTransport is false, in any of its spellings", () => {
    const base = { Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } };
    expect(deniesInsecureTransport({ ...base, Principal: "*" })).toBe(true);
    expect(deniesInsecureTransport({ ...base, Principal: { AWS: ["*"] }, Action: ["s3:*"] })).toBe(true);
    expect(
      deniesInsecureTransport({
        ...base,
        Condition: { Bool: { "aws:SecureTransport": ["false"] } },
        Principal: "*",
      }),
    ).toBe(true);
    expect(deniesInsecureTransport({ ...base, Principal: { AWS: "arn:aws:iam::1:root" } })).toBe(false);
    expect(deniesInsecureTransport({ ...base, Principal: "*", Action: "s3:GetObject" })).toBe(false);
    expect(deniesInsecureTransport({ ...base, Principal: "*", Effect: "Allow" })).toBe(false);
    expect(
      deniesInsecureTransport({
        ...base,
        Principal: "*",
        Condition: { Bool: { "aws:SecureTransport": "true" } },
      }),
    ).toBe(false);
  });
});
