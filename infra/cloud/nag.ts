import { type App, type CfnElement, Stack, Validations } from "aws-cdk-lib";
import type { ManagedPolicy } from "aws-cdk-lib/aws-iam";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks, HIPAASecurityChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { BUCKETS } from "../resources";
import { wildcardOnlyPolicies } from "./functions";
import { exportName } from "./handover";
import type { StageSettings } from "./settings";
import type { StatefulStack, StatelessStack } from "./stack";

/** The stage's two stacks, which the acknowledgments pick constructs from. */
export type CoachVaultStacks = { stateful: StatefulStack; stateless: StatelessStack };

/**
 * Both nag packs run on every synth; an unacknowledged finding fails `cdk synth` and the infra test.
 * Every acknowledgment lives here — rule ids, the constructs it covers and the reason a reviewer
 * needs — so the list stays short and reviewable. The infra test pins its length.
 */
export type Acknowledgment = {
  /** Rule ids, or finding ids (`Rule[Finding]`) where the rule reports one per resource. */
  ids: string[] | ((construct: IConstruct) => string[]);
  reason: string;
  on: (stacks: CoachVaultStacks) => IConstruct[];
};

const logicalId = (construct: IConstruct) => {
  const stack = Stack.of(construct);
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
};

const allFunctions = ({ stateless }: CoachVaultStacks) => [
  ...Object.values(stateless.api.functions),
  ...Object.values(stateless.jobs.functions),
];

const byPath = (stack: Stack, suffix: string) =>
  stack.node.findAll().filter((construct) => construct.node.path.endsWith(suffix));

export function acknowledgments(settings: StageSettings): Acknowledgment[] {
  return [
    {
      ids: ["AwsSolutions-L1"],
      reason:
        "Functions are pinned to nodejs22.x on purpose: the runtime is upgraded as a tested change with the " +
        "local toolchain, not silently to whatever is newest.",
      on: allFunctions,
    },
    {
      ids: (policy) => {
        if (wildcardOnlyPolicies(Stack.of(policy)).includes(policy as never))
          return ["AwsSolutions-IAM5[Resource::*]"];
        const stack = Stack.of(policy);
        const document = JSON.stringify(stack.resolve((policy as ManagedPolicy).document));
        const group = stack.node
          .findAll()
          .find((c) => c.node.path === policy.node.path.replace(/Policy$/, "Logs"));
        // The buckets' ARNs are the stateful stack's exports (handover.ts), named by stage.
        const buckets = Object.keys(BUCKETS)
          .map((name) => exportName(settings.stage, ["buckets", name, "arn"]))
          .filter((bucketArn) => document.includes(bucketArn));
        return [
          ...(group ? [`AwsSolutions-IAM5[Resource::<${logicalId(group)}.Arn>:*]`] : []),
          ...buckets.map((bucketArn) => `AwsSolutions-IAM5[Resource::${bucketArn}/*]`),
        ];
      },
      reason:
        "No wildcard on data: X-Ray PutTraceSegments/PutTelemetryRecords, the Lambda VPC ENI actions and Comprehend " +
        "Medical DetectPHI accept no resource but '*', and are granted only by the stacks' shared policies for " +
        "them (functions.ts, WILDCARD_ONLY), never on a function's own policy; log streams are created under the " +
        "function's (or CloudTrail's) own log group (<group-arn>:*); objects are under the one transcripts or " +
        "checkpoints bucket (<bucket-arn>/*), acknowledged only on the policies that name that bucket.",
      on: ({ stateful, stateless }) => [
        ...wildcardOnlyPolicies(stateless),
        ...stateless.api.policies,
        ...stateless.jobs.policies,
        ...(stateful.trail.deliveryPolicy ? [stateful.trail.deliveryPolicy] : []),
      ],
    },
    {
      ids: [
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup]",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore]",
      ],
      reason:
        "AWS service roles use the AWS-managed policies AWS documents for them: API Gateway's account-level " +
        "CloudWatch role (AmazonAPIGatewayPushToCloudWatchLogs) and AWS Backup's role (backups and restores of " +
        "the tables and the S3 transcripts bucket).",
      on: ({ stateful, stateless }) => [
        ...byPath(stateless, "Rest/CloudWatchRole"),
        stateful.data.backupRole,
      ],
    },
    {
      ids: (construct) => (construct instanceof Queue ? ["AwsSolutions-SQS3"] : ["HIPAA.Security-LambdaDLQ"]),
      reason:
        "Dead letters where they carry something: route functions are invoked synchronously by API Gateway " +
        "(a failure is returned to the caller and alarmed); the scheduled checkpoint job carries no payload " +
        "(EventBridge retries, the next run redoes its work); a started job is retried twice by Lambda and " +
        "then sent to its own encrypted queue as an on-failure destination; the stream witness's event source " +
        "mapping sends what it gives up to its own encrypted queue. Those queues are the dead-letter " +
        "destinations themselves: alarmed, kept 14 days.",
      on: (stacks) => [...allFunctions(stacks), ...Object.values(stacks.stateless.jobs.failureQueues)],
    },
    {
      ids: ["AwsSolutions-APIG4", "AwsSolutions-COG4"],
      reason:
        "Only GET /health and GET /openapi.json are public: they return no PHI and no tenant data, and " +
        "monitoring and client generators must reach them without a token.",
      on: ({ stateless }) => stateless.api.publicMethods,
    },
    {
      ids: ["HIPAA.Security-APIGWCacheEnabledAndEncrypted"],
      reason:
        "API responses carry PHI and are sent with Cache-Control: no-store; caching them at the gateway, " +
        "even encrypted, would keep PHI outside the per-client keys and the audit trail.",
      on: ({ stateless }) => [stateless.api.restApi.deploymentStage],
    },
    // A stage that sets replication copies every bucket to another region; one that does not says why here
    // (dev: destroyable; a stage that keeps its data: AWS Backup in its region, and a synthesis warning).
    settings.replication
      ? {
          ids: (policy) => {
            const stack = Stack.of(policy) as StatefulStack;
            const buckets = [...Object.values(stack.data.buckets), stack.data.accessLogs];
            if (stack.trail.bucket) buckets.push(stack.trail.bucket);
            const destinations = Object.values(settings.replication?.buckets ?? {});
            return [
              ...buckets.map((bucket) => `AwsSolutions-IAM5[Resource::<${logicalId(bucket)}.Arn>/*]`),
              ...destinations.map((arn) => `AwsSolutions-IAM5[Resource::${arn}/*]`),
            ];
          },
          reason:
            "S3 replication reads every object version of the stage's buckets (<bucket-arn>/*) and replicates " +
            "them into the one destination bucket of each (<destination-arn>/*); no other bucket, no other action.",
          on: ({ stateful }) => (stateful.data.replication ? [stateful.data.replication.policy] : []),
        }
      : {
          ids: ["HIPAA.Security-S3BucketReplicationEnabled"],
          reason:
            settings.removalPolicy === "destroy"
              ? `Stage '${settings.stage}' has removalPolicy destroy: its data is deleted with the stack, so there is ` +
                "nothing to keep in another region."
              : `Stage '${settings.stage}' sets no replication: the transcripts and checkpoints buckets are in the ` +
                "AWS Backup plan (daily, its own key, Vault Lock), in the stage's region; synthesis warns until the " +
                "stage names destination buckets in another region (README, Replication).",
          on: ({ stateful }) => [
            ...Object.values(stateful.data.buckets),
            stateful.data.accessLogs,
            ...(stateful.trail.bucket ? [stateful.trail.bucket] : []),
          ],
        },
    {
      ids: ["HIPAA.Security-S3DefaultEncryptionKMS"],
      reason:
        "The server-access-log bucket must use SSE-S3: S3 log delivery cannot write to SSE-KMS buckets. It holds request metadata, never object contents.",
      on: ({ stateful }) => [stateful.data.accessLogs],
    },
    ...(settings.reservedConcurrency
      ? []
      : [
          {
            ids: ["HIPAA.Security-LambdaConcurrency"],
            reason: `Stage '${settings.stage}' runs with context reservedConcurrency=false (dev accounts start with a small Lambda quota): its route functions share the unreserved pool. Other stages reserve, and jobs reserve on every stage.`,
            on: ({ stateless }: CoachVaultStacks) => Object.values(stateless.api.functions),
          },
        ]),
    {
      ids: ["HIPAA.Security-CloudWatchLogGroupEncrypted"],
      reason:
        "Cognito delivers user auth events only to a log group not encrypted with KMS (CloudFormation, " +
        "CloudWatchLogsConfiguration.LogGroupArn). The group holds user subs, IPs, event types and risk " +
        "decisions, no PHI; CloudWatch Logs encrypts it at rest with its own keys, and it keeps 30 days.",
      on: ({ stateful }) => [stateful.auth.authEvents],
    },
    {
      ids: ["HIPAA.Security-LambdaInsideVPC"],
      reason: settings.useVpc
        ? "Only jobs whose manifest entry says network 'internet' run outside the isolated subnets: the token-key " +
          "refresh job fetches the user pool's public JWKS, which no VPC endpoint is documented to serve " +
          "(shared/auth/token-keys.ts), and writes one records item; it reads and holds no PHI."
        : `Stage '${settings.stage}' runs with context useVpc=false (development only); production sets useVpc=true.`,
      on: (stacks) => allFunctions(stacks).filter((fn) => !fn.isBoundToVpc),
    },
  ];
}

export function applyNagPacks(app: App, stacks: CoachVaultStacks, settings: StageSettings): void {
  Validations.of(app).addPlugins(new HIPAASecurityChecks(app), new AwsSolutionsChecks(app));
  for (const ack of acknowledgments(settings)) {
    for (const construct of ack.on(stacks)) {
      const ids = typeof ack.ids === "function" ? ack.ids(construct) : ack.ids;
      for (const id of ids) Validations.of(construct).acknowledge({ id, reason: ack.reason });
    }
  }
}
