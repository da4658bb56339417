import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { stackNames } from "../resources";
import type { Lifecycle } from "./lifecycle";

/**
 * The log groups of a stage, by name: every log group the stack creates gets its name from CloudFormation
 * (`<stack name>-<logical id>-<suffix>`, the stacks being `CoachVault-<stage>…`) or is named after something
 * the stage owns. The logs key serves these and no other (its key policy's encryption-context condition).
 */
export const stageLogGroups = (stage: string): string[] => [
  // By the full stack names (nested stacks' names start with their parent's), so that stage `dev` never
  // covers a stage `dev-eu`.
  ...Object.values(stackNames(stage)).flatMap((stack) => [
    `${stack}-*`,
    // CDK custom resources' functions (CloudFormation-named after the stack) log under /aws/lambda/.
    `/aws/lambda/${stack}-*`,
  ]),
  // The REST API's id is the stateless stack's, which this key must not depend on: any API's stage of this
  // name in the account matches (README, "Deploy").
  `API-Gateway-Execution-Logs_*/${stage}`,
  // The WAF log group: `aws-waf-logs-coachvault-<stage>-<id>`, `<id>` the 12 hex digits of lifecycle.ts deployUnique.
  `aws-waf-logs-coachvault-${stage}-????????????`,
  // The sign-in WAF's (auth.ts), the same way.
  `aws-waf-logs-coachvault-${stage}-sign-in-????????????`,
];

/**
 * The same log groups as name prefixes (what DescribeLogGroups filters by), for the compliance checks of
 * retention and encryption: each holds the logs key and the stage's retention. Cognito's auth-events group
 * (auth.ts, /aws/vendedlogs/) is left out on purpose: vended logs cannot use a customer key, and it keeps 30 days.
 */
export const stageLogGroupPrefixes = (stage: string, restApiId: string): string[] => [
  ...Object.values(stackNames(stage)).flatMap((stack) => [`${stack}-`, `/aws/lambda/${stack}-`]),
  `API-Gateway-Execution-Logs_${restApiId}/${stage}`,
  `aws-waf-logs-coachvault-${stage}-`,
];

/**
 * Customer-managed KMS keys, one per purpose so that a grant for one never opens another:
 * `data` wraps the per-client data keys, `storage` encrypts tables and buckets at rest, `logs`
 * encrypts CloudWatch log groups and the alarm topic, `auditSigning` signs audit checkpoints, `backups`
 * encrypts the backup vault's recovery points.
 */
export class Keys extends Construct {
  readonly data: Key;
  readonly storage: Key;
  readonly logs: Key;
  /** Signs audit checkpoints (ECDSA P-256); its public half lets anyone check them. */
  readonly auditSigning: Key;
  /** Encrypts CloudTrail log files (CloudTrail itself is granted use in trail.ts). */
  readonly trail: Key;
  /** Encrypts the backup vault (its own key: a grant on the storage key never opens a recovery point). */
  readonly backups: Key;

  constructor(scope: Construct, id: string, props: { stage: string; lifecycle: Lifecycle }) {
    super(scope, id);
    const retained = props.lifecycle.removalPolicy === RemovalPolicy.RETAIN;
    const removal = {
      removalPolicy: props.lifecycle.removalPolicy,
      pendingWindow: Duration.days(retained ? 30 : 7),
    };
    const common = { enableKeyRotation: true, ...removal };
    this.data = new Key(this, "DataKeys", {
      ...common,
      description: "CoachVault: wraps per-client data keys",
    });
    this.storage = new Key(this, "Storage", {
      ...common,
      description: "CoachVault: tables and buckets at rest",
    });
    this.logs = new Key(this, "Logs", { ...common, description: "CoachVault: log groups and alarm topic" });
    this.trail = new Key(this, "Trail", { ...common, description: "CoachVault: CloudTrail log files" });
    this.backups = new Key(this, "Backups", { ...common, description: "CoachVault: backup vault" });
    // AWS KMS does not rotate asymmetric keys; a new signing key is a new key id. The verifier accepts only
    // the configured key (never the one a checkpoint names): the replaced key's ARN goes into
    // KMS_AUDIT_RETIRED_SIGNING_KEY_IDS so that older checkpoints keep verifying (acknowledged in nag.ts).
    this.auditSigning = new Key(this, "AuditSigning", {
      ...removal,
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      description: "CoachVault: signs audit checkpoints",
    });
    const { region, account, partition } = Stack.of(this);
    // CloudWatch Logs may use the key for this stage's log groups only (the log group ARN is the context).
    this.logs.addToResourcePolicy(
      new PolicyStatement({
        actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        principals: [new ServicePrincipal(`logs.${region}.amazonaws.com`)],
        resources: ["*"],
        conditions: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": stageLogGroups(props.stage).map(
              (name) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`,
            ),
          },
        },
      }),
    );
    // Alarms publish to the encrypted alarm topic.
    this.logs.grantEncryptDecrypt(new ServicePrincipal("cloudwatch.amazonaws.com"));
  }
}
