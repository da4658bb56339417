import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { BackupPlan, BackupPlanRule, BackupResource, BackupVault } from "aws-cdk-lib/aws-backup";
import { AttributeType, Billing, StreamViewType, TableEncryptionV2, TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Schedule } from "aws-cdk-lib/aws-events";
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Key } from "aws-cdk-lib/aws-kms";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { AUDIT_ITEM_ATTRIBUTES, CHAIN_ID_PATTERN } from "../../shared/audit/chain";
import { BUCKETS, type BucketName, resourceName, TABLES, type TableName } from "../resources";

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
 */
export function appendOnlyPolicy(): PolicyDocument {
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
          "dynamodb:DeleteTable",
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
 * point-in-time recovery and deletion protection on, every table in a daily/7-year backup plan.
 */
export class Data extends Construct {
  readonly tables: Record<TableName, TableV2>;
  readonly buckets: Record<BucketName, Bucket>;
  readonly accessLogs: Bucket;

  constructor(
    scope: Construct,
    id: string,
    props: { stage: string; storageKey: Key; checkpointRetentionDays: number },
  ) {
    super(scope, id);
    const attribute = (key: { name: string; type: "S" | "N" }) => ({
      name: key.name,
      type: key.type === "S" ? AttributeType.STRING : AttributeType.NUMBER,
    });
    this.tables = Object.fromEntries(
      (Object.entries(TABLES) as [TableName, (typeof TABLES)[TableName]][]).map(([name, table]) => [
        name,
        new TableV2(this, `${name}Table`, {
          tableName: resourceName(props.stage, name),
          partitionKey: attribute(table.partitionKey),
          ...("sortKey" in table && { sortKey: attribute(table.sortKey) }),
          globalSecondaryIndexes: ("indexes" in table ? table.indexes : []).map((index) => ({
            indexName: index.name,
            partitionKey: attribute(index.partitionKey),
            sortKey: attribute(index.sortKey),
          })),
          ...("stream" in table && { dynamoStream: StreamViewType[table.stream] }),
          ...(name === "audit" && { resourcePolicy: appendOnlyPolicy() }),
          billing: Billing.onDemand(),
          encryption: TableEncryptionV2.customerManagedKey(props.storageKey),
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          deletionProtection: true,
          removalPolicy: RemovalPolicy.RETAIN,
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
      removalPolicy: RemovalPolicy.RETAIN,
    });
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
          removalPolicy: RemovalPolicy.RETAIN,
          ...("noncurrentVersionDays" in spec && {
            // Deletes leave delete markers; versions they hide expire, then the markers themselves go.
            lifecycleRules: [
              {
                noncurrentVersionExpiration: Duration.days(spec.noncurrentVersionDays),
                expiredObjectDeleteMarker: true,
              },
            ],
          }),
          ...(spec.objectLock && {
            objectLockEnabled: true,
            objectLockDefaultRetention: ObjectLockRetention.compliance(
              Duration.days(props.checkpointRetentionDays),
            ),
          }),
        }),
      ]),
    ) as Record<BucketName, Bucket>;

    const vault = new BackupVault(this, "Vault", {
      encryptionKey: props.storageKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const plan = new BackupPlan(this, "Plan", { backupVault: vault });
    plan.addRule(
      new BackupPlanRule({
        ruleName: "daily-7-years",
        scheduleExpression: Schedule.cron({ hour: "3", minute: "0" }),
        deleteAfter: Duration.days(2557),
        moveToColdStorageAfter: Duration.days(90),
      }),
    );
    plan.addSelection("Tables", {
      resources: Object.values(this.tables).map((table) => BackupResource.fromDynamoDbTable(table)),
    });
  }
}
