import { Annotations, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { BackupPlan, BackupPlanRule, BackupResource, BackupVault } from "aws-cdk-lib/aws-backup";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { AttributeType, Billing, StreamViewType, TableEncryptionV2, TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Schedule } from "aws-cdk-lib/aws-events";
import {
  AnyPrincipal,
  Effect,
  ManagedPolicy,
  PolicyDocument,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from "aws-cdk-lib/aws-iam";
import type { Key } from "aws-cdk-lib/aws-kms";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { AUDIT_ITEM_ATTRIBUTES, CHAIN_ID_PATTERN } from "../../shared/audit/chain";
import { BUCKETS, type BucketName, objectLockDays, TABLES, type TableName } from "../resources";
import { deployUnique, type Lifecycle, objectLockRetention } from "./lifecycle";
import { Replication } from "./replication";
import type { StageSettings } from "./settings";

/**
 * How long backups of the keys table are kept (days). A deleted wrapped data key (a crypto-shredded client)
 * stays restorable for point-in-time recovery's 35 days, and from a backup for this long after the last
 * daily backup that held it: after both, the client's PHI is unrecoverable. README, "Backups and
 * crypto-shredding", states the same number (checked by stack.test.ts).
 */
export const KEYS_BACKUP_DAYS = 35;
/** How long backups of the other tables and of the transcripts bucket are kept: 7 years. */
export const DATA_BACKUP_DAYS = 2557;

/**
 * The audit table's resource policy: what IAM can forbid to every principal, the account's administrators
 * included, so that append-only does not rest on our code alone. Denied: changing or deleting an item
 * (UpdateItem, DeleteItem, BatchWriteItem, the PartiQL writes, which ExecuteStatement, BatchExecuteStatement
 * and ExecuteTransaction are authorized as), a TTL that would let DynamoDB delete items, deleting the
 * table; and any put outside a chain's partition or carrying an attribute an audit item never has.
 * What IAM cannot express is a put that overwrites an existing item: PutItem is PutItem whether or not
 * the key exists, and the `attribute_not_exists` condition lives in the request. Overwrites are caught by
 * the live witness (a MODIFY in the stream) and the verifier. Loosening this policy raises a CloudTrail
 * alarm (trail.ts). DynamoDB Local ignores resource policies: this exists in the cloud only.
 * A stage whose stack deletes its data (`removalPolicy: destroy`, dev) leaves DeleteTable out: the deny
 * would bind CloudFormation too, so `cdk destroy` and the rollback of a failed first deploy would fail.
 */
export function appendOnlyPolicy(tableDeletable: boolean): PolicyDocument {
  const everyone = [new AnyPrincipal()];
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: "AppendOnly",
        effect: Effect.DENY,
        principals: everyone,
        actions: [
          "dynamodb:UpdateItem",
          "dynamodb:DeleteItem",
          "dynamodb:BatchWriteItem",
          "dynamodb:PartiQLInsert",
          "dynamodb:PartiQLUpdate",
          "dynamodb:PartiQLDelete",
          "dynamodb:UpdateTimeToLive",
          ...(tableDeletable ? [] : ["dynamodb:DeleteTable"]),
        ],
        resources: ["*"],
      }),
      new PolicyStatement({
        sid: "PutsToChainsOnly",
        effect: Effect.DENY,
        principals: everyone,
        actions: ["dynamodb:PutItem"],
        resources: ["*"],
        conditions: { "ForAnyValue:StringNotLike": { "dynamodb:LeadingKeys": [CHAIN_ID_PATTERN] } },
      }),
      new PolicyStatement({
        sid: "PutsOfAuditItemsOnly",
        effect: Effect.DENY,
        principals: everyone,
        actions: ["dynamodb:PutItem"],
        resources: ["*"],
        conditions: { "ForAnyValue:StringNotEquals": { "dynamodb:Attributes": [...AUDIT_ITEM_ATTRIBUTES] } },
      }),
    ],
  });
}

/**
 * Where PHI rests: the tables and buckets of `infra/resources.ts`, encrypted with the storage key,
 * point-in-time recovery on, deletion protection and removal as the stage says (`Lifecycle`). Backups, in a
 * vault under its own key (Vault Lock where the stage says): the records, audit and witness tables and the
 * transcripts bucket daily for 7 years; the keys table daily for `KEYS_BACKUP_DAYS` only (crypto-shredding).
 * Names are CloudFormation's (the functions get them through their environment), so nothing retained by a
 * rolled-back first deploy blocks the next.
 */
export class Data extends Construct {
  readonly tables: Record<TableName, TableV2>;
  readonly buckets: Record<BucketName, Bucket>;
  readonly accessLogs: Bucket;
  readonly vault: BackupVault;
  /** The role AWS Backup uses for every selection (tables and the transcripts bucket). */
  readonly backupRole: Role;
  /** Cross-region replication of every bucket, where the stage sets it up. */
  readonly replication?: Replication;

  constructor(
    scope: Construct,
    id: string,
    props: {
      storageKey: Key;
      backupKey: Key;
      auditRetentionDays: number;
      lifecycle: Lifecycle;
      backupVaultLock: boolean;
      replication?: StageSettings["replication"];
    },
  ) {
    super(scope, id);
    const { lifecycle } = props;
    if (props.replication) this.replication = new Replication(this, "Replication", props.replication);
    else if (lifecycle.removalPolicy === RemovalPolicy.RETAIN)
      Annotations.of(this).addWarningV2(
        "coachvault:no-replication",
        'This stage keeps its data but replicates no bucket to another region: the AWS Backup plan, in the same region, is the only copy. Set the stage\'s replication (README, "Replication").',
      );
    const attribute = (key: { name: string; type: "S" | "N" }) => ({
      name: key.name,
      type: key.type === "S" ? AttributeType.STRING : AttributeType.NUMBER,
    });
    this.tables = Object.fromEntries(
      (Object.entries(TABLES) as [TableName, (typeof TABLES)[TableName]][]).map(([name, table]) => [
        name,
        new TableV2(this, `${name}Table`, {
          partitionKey: attribute(table.partitionKey),
          ...("sortKey" in table && { sortKey: attribute(table.sortKey) }),
          globalSecondaryIndexes: ("indexes" in table ? table.indexes : []).map((index) => ({
            indexName: index.name,
            partitionKey: attribute(index.partitionKey),
            sortKey: attribute(index.sortKey),
          })),
          ...("stream" in table && { dynamoStream: StreamViewType[table.stream] }),
          ...("timeToLive" in table && { timeToLiveAttribute: table.timeToLive }),
          ...(name === "audit" && {
            resourcePolicy: appendOnlyPolicy(lifecycle.removalPolicy === RemovalPolicy.DESTROY),
          }),
          billing: Billing.onDemand(),
          encryption: TableEncryptionV2.customerManagedKey(props.storageKey),
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          deletionProtection: lifecycle.deletionProtection,
          removalPolicy: lifecycle.removalPolicy,
        }),
      ]),
    ) as Record<TableName, TableV2>;

    // S3 server access logs can only be written to an SSE-S3 bucket (acknowledged in nag.ts).
    this.accessLogs = new Bucket(this, "AccessLogs", {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(2555) }],
      removalPolicy: lifecycle.removalPolicy,
      autoDeleteObjects: lifecycle.autoDeleteObjects,
      ...this.replication?.bucketProps("accessLogs"),
    });
    this.replication?.grant("accessLogs", this.accessLogs);
    this.buckets = Object.fromEntries(
      (Object.entries(BUCKETS) as [BucketName, (typeof BUCKETS)[BucketName]][]).map(([name, spec]) => [
        name,
        new Bucket(this, `${name}Bucket`, {
          encryption: BucketEncryption.KMS,
          encryptionKey: props.storageKey,
          bucketKeyEnabled: true,
          enforceSSL: true,
          blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
          versioned: true,
          serverAccessLogsBucket: this.accessLogs,
          serverAccessLogsPrefix: `${name}/`,
          // A bucket under Object Lock cannot be emptied by the stack: it is retained (its name is CloudFormation's).
          ...(spec.objectLock
            ? { removalPolicy: RemovalPolicy.RETAIN }
            : { removalPolicy: lifecycle.removalPolicy, autoDeleteObjects: lifecycle.autoDeleteObjects }),
          ...("noncurrentVersionDays" in spec && {
            // Deletes leave delete markers; versions they hide expire, then the markers themselves go.
            lifecycleRules: [
              {
                noncurrentVersionExpiration: Duration.days(spec.noncurrentVersionDays),
                expiredObjectDeleteMarker: true,
              },
            ],
          }),
          ...this.replication?.bucketProps(name, props.storageKey),
          ...(spec.objectLock && {
            objectLockEnabled: true,
            objectLockDefaultRetention: objectLockRetention(
              lifecycle.objectLockMode,
              objectLockDays(name, props.auditRetentionDays) as number,
            ),
          }),
        }),
      ]),
    ) as Record<BucketName, Bucket>;
    for (const [name, bucket] of Object.entries(this.buckets))
      this.replication?.grant(name as BucketName, bucket, props.storageKey);

    // Recovery points cannot be deleted by the stack: the vault is retained, under a deploy-unique name.
    this.vault = new BackupVault(this, "Vault", {
      backupVaultName: `coachvault-${deployUnique(this)}`,
      encryptionKey: props.backupKey,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.backupVaultLock && {
        // Compliance mode once the 3 days pass: nobody, root included, deletes a recovery point early. The
        // minimum is the shortest rule's (the keys table's), so that rule stays valid.
        lockConfiguration: { minRetention: Duration.days(KEYS_BACKUP_DAYS), changeableFor: Duration.days(3) },
      }),
    });
    this.backupRole = new Role(this, "BackupRole", {
      assumedBy: new ServicePrincipal("backup.amazonaws.com"),
      managedPolicies: [
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
        // S3 backups and restores (the transcripts bucket; AWS Backup for S3 needs versioning, which it has).
        "AWSBackupServiceRolePolicyForS3Backup",
        "AWSBackupServiceRolePolicyForS3Restore",
      ].map((name) =>
        name.includes("S3")
          ? ManagedPolicy.fromAwsManagedPolicyName(name)
          : ManagedPolicy.fromAwsManagedPolicyName(`service-role/${name}`),
      ),
    });
    const daily = Schedule.cron({ hour: "3", minute: "0" });
    // A plan's rules apply to all its selections: one plan per retention.
    const plan = (planId: string, rule: BackupPlanRule, resources: BackupResource[]) =>
      // Plan names are unique per account and region: the stack's name carries the stage.
      new BackupPlan(this, planId, {
        backupPlanName: `${Stack.of(this).stackName}-${planId}`,
        backupVault: this.vault,
        backupPlanRules: [rule],
      }).addSelection("Selection", { resources, role: this.backupRole });
    const { keys, ...dataTables } = this.tables;
    plan(
      "Plan",
      new BackupPlanRule({
        ruleName: "daily-7-years",
        scheduleExpression: daily,
        deleteAfter: Duration.days(DATA_BACKUP_DAYS),
        moveToColdStorageAfter: Duration.days(90),
      }),
      Object.values(dataTables).map((table) => BackupResource.fromDynamoDbTable(table)),
    );
    // S3 backups do not move to cold storage.
    plan(
      "TranscriptsPlan",
      new BackupPlanRule({
        ruleName: "daily-7-years",
        scheduleExpression: daily,
        deleteAfter: Duration.days(DATA_BACKUP_DAYS),
      }),
      [BackupResource.fromArn(this.buckets.transcripts.bucketArn)],
    );
    plan(
      "KeysPlan",
      new BackupPlanRule({
        ruleName: `daily-${KEYS_BACKUP_DAYS}-days`,
        scheduleExpression: daily,
        deleteAfter: Duration.days(KEYS_BACKUP_DAYS),
      }),
      [BackupResource.fromDynamoDbTable(keys)],
    );
  }

  /** Alarms when a backup job of the vault fails or expires (never started in its window). */
  alarmBackupFailures(topic: ITopic): void {
    const jobs = (metricName: string) =>
      // AWS Backup publishes its job counts per vault, and per vault and resource type: either alarms.
      ([{}, { ResourceType: "DynamoDB" }, { ResourceType: "S3" }] as Record<string, string>[]).map(
        (dimensions) =>
          new Metric({
            namespace: "AWS/Backup",
            metricName,
            dimensionsMap: { BackupVaultName: this.vault.backupVaultName, ...dimensions },
            period: Duration.hours(1),
            statistic: "Sum",
          }),
      );
    const failed = [...jobs("NumberOfBackupJobsFailed"), ...jobs("NumberOfBackupJobsExpired")];
    new Alarm(this, "BackupJobsFailed", {
      alarmDescription: "A backup job of the CoachVault vault failed or expired",
      metric: new MathExpression({
        expression: failed.map((_, index) => `FILL(m${index}, 0)`).join(" + "),
        usingMetrics: Object.fromEntries(failed.map((metric, index) => [`m${index}`, metric])),
        period: Duration.hours(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(topic));
  }
}
