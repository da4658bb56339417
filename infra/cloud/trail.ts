import { CfnOutput, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { type CfnTrail, Trail } from "aws-cdk-lib/aws-cloudtrail";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { Key } from "aws-cdk-lib/aws-kms";
import { FilterPattern, LogGroup, MetricFilter, type RetentionDays } from "aws-cdk-lib/aws-logs";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { JobId } from "../../functions/jobs";
import { resourceName } from "../resources";
import { type Lifecycle, objectLockRetention } from "./lifecycle";
import { metricNamespace } from "./monitoring";
import type { Replication } from "./replication";
import type { StageSettings } from "./settings";

export type AccountTrailProps = {
  stage: string;
  /** "own": this stage's trail; "organization": an organization trail covers the account (see below). */
  mode: StageSettings["trail"];
  organizationTrailArn?: string;
  lifecycle: Lifecycle;
  trailKey: Key;
  logsKey: Key;
  logRetention: RetentionDays;
  retentionDays: number;
  accessLogs: IBucket;
  /** Cross-region replication of the trail's bucket, where the stage sets it up. */
  replication?: Replication;
  /** PHI stores whose every object-level / item-level call is recorded (data events). */
  phiBuckets: readonly IBucket[];
  phiTables: readonly TableV2[];
  /** The audit table, whose changes alarm (its name is CloudFormation's: the filter matches the real one). */
  auditTable: TableV2;
  alarmTopic: ITopic;
};

/**
 * CloudTrail: every management event in every region, plus data events (each object and item read and
 * write) on the PHI buckets and tables; log file validation (signed digests); files encrypted with
 * their own KMS key into a bucket under Object Lock (the stage's mode: compliance unless it says otherwise),
 * accepting this trail's files only (aws:SourceArn); delivered to CloudWatch Logs,
 * where metric filters raise alarms on the events a HIPAA reviewer looks for.
 *
 * With mode "organization" none of that is created here: the organization trail (in the management account)
 * records this account. What stays either way are the PHI data-event selectors: this construct outputs them
 * (`PhiDataEventSelectors`, the advanced event selectors to add to the organization trail), and the README
 * says what the organization's administrator applies, alarms included.
 */
export class AccountTrail extends Construct {
  /** Absent with an organization trail. */
  readonly trail?: Trail;
  readonly bucket?: Bucket;
  readonly deliveryPolicy?: ManagedPolicy;
  /** The advanced event selectors recording every object and item call on the PHI buckets and tables. */
  readonly phiSelectors: CfnTrail.AdvancedEventSelectorProperty[];

  constructor(scope: Construct, id: string, props: AccountTrailProps) {
    super(scope, id);
    this.phiSelectors = phiDataEventSelectors(props.phiBuckets, props.phiTables);
    if (props.mode === "organization") {
      new CfnOutput(this, "PhiDataEventSelectors", {
        description: `Advanced event selectors the organization trail ${props.organizationTrailArn} must include`,
        value: Stack.of(this).toJsonString(this.phiSelectors),
      }).overrideLogicalId("PhiDataEventSelectors");
      return;
    }
    const { account, partition, region } = Stack.of(this);
    const trailName = `coachvault-${props.stage}`;
    const trailArn = `arn:${partition}:cloudtrail:*:${account}:trail/${trailName}`;
    const cloudTrail = new ServicePrincipal("cloudtrail.amazonaws.com");
    props.trailKey.addToResourcePolicy(
      new PolicyStatement({
        actions: ["kms:GenerateDataKey*"],
        principals: [cloudTrail],
        resources: ["*"],
        conditions: { StringLike: { "kms:EncryptionContext:aws:cloudtrail:arn": trailArn } },
      }),
    );
    props.trailKey.addToResourcePolicy(
      new PolicyStatement({ actions: ["kms:DescribeKey"], principals: [cloudTrail], resources: ["*"] }),
    );

    this.bucket = new Bucket(this, "Bucket", {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.trailKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: objectLockRetention(props.lifecycle.objectLockMode, props.retentionDays),
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: "cloudtrail/",
      // Under Object Lock the stack cannot empty it: retained in every stage (its name is CloudFormation's).
      removalPolicy: RemovalPolicy.RETAIN,
      ...props.replication?.bucketProps("cloudTrail", props.trailKey),
    });
    props.replication?.grant("cloudTrail", this.bucket, props.trailKey);
    const logGroup = new LogGroup(this, "TrailLogs", {
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: props.lifecycle.removalPolicy,
    });
    // The Trail construct's bucket policy lets CloudTrail write without naming the trail: every statement it
    // adds is narrowed to this trail (aws:SourceArn), so no other trail can deliver into the bucket.
    const sourceArn = `arn:${partition}:cloudtrail:${region}:${account}:trail/${trailName}`;
    const forThisTrailOnly = new Proxy(this.bucket, {
      get: (target, property, receiver) =>
        property === "addToResourcePolicy"
          ? (statement: PolicyStatement) => {
              statement.addCondition("StringEquals", { "aws:SourceArn": sourceArn });
              return target.addToResourcePolicy(statement);
            }
          : Reflect.get(target, property, receiver),
    });
    this.trail = new Trail(this, "Trail", {
      trailName,
      bucket: forThisTrailOnly,
      encryptionKey: props.trailKey,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
    });
    // Delivery to CloudWatch Logs through a role with a managed policy (the construct's own would be inline).
    const deliveryRole = new Role(this, "LogsDelivery", { assumedBy: cloudTrail });
    this.deliveryPolicy = new ManagedPolicy(this, "TrailPolicy", {
      roles: [deliveryRole],
      statements: [
        new PolicyStatement({
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${logGroup.logGroupArn}:*`],
        }),
      ],
    });
    const cfnTrail = this.trail.node.defaultChild as CfnTrail;
    cfnTrail.cloudWatchLogsLogGroupArn = logGroup.logGroupArn;
    cfnTrail.cloudWatchLogsRoleArn = deliveryRole.roleArn;
    cfnTrail.node.addDependency(this.deliveryPolicy);
    // DynamoDB data events exist only as advanced event selectors, and a trail uses one kind or the other.
    cfnTrail.advancedEventSelectors = [
      { name: "Management events", fieldSelectors: [{ field: "eventCategory", equalTo: ["Management"] }] },
      ...this.phiSelectors,
    ];

    const action = new SnsAction(props.alarmTopic);
    for (const [name, pattern] of Object.entries(trailAlarms(props.stage, props.auditTable.tableName))) {
      const metric = new MetricFilter(this, `${name}Filter`, {
        logGroup,
        filterPattern: FilterPattern.literal(pattern),
        metricNamespace: metricNamespace(props.stage, "CloudTrail"),
        metricName: name,
        metricValue: "1",
      }).metric({ period: Duration.minutes(5), statistic: "Sum" });
      new Alarm(this, `${name}Alarm`, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(action);
    }
  }
}

/** Data events (each object and item read and write) on the PHI buckets and tables. */
const phiDataEventSelectors = (
  buckets: readonly IBucket[],
  tables: readonly TableV2[],
): CfnTrail.AdvancedEventSelectorProperty[] => [
  {
    name: "PHI objects",
    fieldSelectors: [
      { field: "eventCategory", equalTo: ["Data"] },
      { field: "resources.type", equalTo: ["AWS::S3::Object"] },
      { field: "resources.ARN", startsWith: buckets.map((bucket) => `${bucket.bucketArn}/`) },
    ],
  },
  {
    name: "PHI tables",
    fieldSelectors: [
      { field: "eventCategory", equalTo: ["Data"] },
      { field: "resources.type", equalTo: ["AWS::DynamoDB::Table"] },
      { field: "resources.ARN", equalTo: tables.map((table) => table.tableArn) },
    ],
  },
];

/**
 * The CIS AWS Foundations metric filters for what a HIPAA reviewer asks to be alarmed on, and the guards
 * of the audit trail's append-only protection. `auditTableName` is the audit table's deployed name (a token in
 * the template: CloudFormation names the table).
 */
export const trailAlarms = (stage: string, auditTableName: string) => ({
  // CIS 3.3: the root user did anything (not a service acting for it).
  RootAccountUsage:
    '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }',
  // CIS 3.2: an IAM user signed in to the console without MFA.
  ConsoleSignInWithoutMfa:
    '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ' +
    '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  // CIS 3.10: security groups (the functions' and the VPC endpoints') opened, closed, made or removed.
  SecurityGroupChanges:
    "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || " +
    "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || " +
    "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
  // CIS 3.8: a bucket's policy, ACL, CORS, lifecycle or replication changed (the PHI buckets' among them).
  S3BucketPolicyChanges:
    "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || " +
    "($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || " +
    "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || " +
    "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
  UnauthorizedApiCalls: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
  KmsKeyDisabledOrScheduledForDeletion:
    "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
  IamPolicyChanges:
    "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || " +
    "($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || " +
    "($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || " +
    "($.eventName = DeletePolicyVersion) || ($.eventName = SetDefaultPolicyVersion) || " +
    "($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || " +
    "($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy) }",
  CloudTrailChanges:
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || " +
    "($.eventName = StartLogging) || ($.eventName = StopLogging) || ($.eventName = PutEventSelectors) }",
  // The audit table's append-only resource policy (data.ts) loosened or removed, on any table of the account.
  DynamoDbResourcePolicyChanges:
    "{ ($.eventSource = dynamodb.amazonaws.com) && " +
    "(($.eventName = PutResourcePolicy) || ($.eventName = DeleteResourcePolicy)) }",
  // The live witness blinded: a table's stream turned off, any change to the audit table (its stream, its
  // indexes, which the compliance queries read), or any change to an event source mapping (the witness's is
  // the account's only one: filter criteria, target function, record age, destination, enabled all blind it).
  // At most two regular expressions per pattern (CloudWatch Logs): alternatives share one.
  AuditWitnessDisabled:
    "{ (($.eventSource = dynamodb.amazonaws.com) && ($.eventName = UpdateTable) && " +
    `(($.requestParameters.streamSpecification.streamEnabled IS FALSE) || ($.requestParameters.tableName = %${auditTableName}$%))) || ` +
    // Lambda's event names carry an API version suffix (DeleteEventSourceMapping20150331): matched by prefix.
    "(($.eventSource = lambda.amazonaws.com) && ($.eventName = %^DeleteEventSourceMapping|^UpdateEventSourceMapping%)) }",
  // The code, configuration (its signing key id, its environment) or concurrency (0 throttles the witness
  // until its records expire) of a function that guards the audit trail changed outside a deployment's
  // CloudFormation… or by one: either way someone looks. A function is named by name or ARN, with or without
  // a qualifier: its name is matched whole, between the start or a colon and the end or a colon (CloudWatch's
  // regular expressions have no groups), so `verifyAuditDaily` or another stage's `…-dev2-…` do not match.
  AuditFunctionsChanged:
    "{ ($.eventSource = lambda.amazonaws.com) && " +
    "($.eventName = %^UpdateFunctionCode|^UpdateFunctionConfiguration|^PutFunctionConcurrency%) && " +
    `($.requestParameters.functionName = %${AUDIT_GUARDS.flatMap((id) => wholeName(resourceName(stage, id))).join("|")}%) }`,
});

/** A function's name as the whole of a name or ARN parameter (with or without a version or alias). */
const wholeName = (name: string) => [`^${name}$`, `^${name}:`, `:${name}$`, `:${name}:`];

/** The functions that guard the audit trail: the witness, the checkpoint signer and the verifiers. */
export const AUDIT_GUARDS = [
  "auditWitness",
  "auditCheckpoint",
  "verifyAudit",
] as const satisfies readonly JobId[];
