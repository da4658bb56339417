import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key, KeySpec, KeyUsage } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";

/**
 * Customer-managed KMS keys, one per purpose so that a grant for one never opens another:
 * `data` wraps the per-client data keys, `storage` encrypts tables and buckets at rest, `logs`
 * encrypts CloudWatch log groups and the alarm topic, `auditSigning` signs audit checkpoints.
 */
export class Keys extends Construct {
  readonly data: Key;
  readonly storage: Key;
  readonly logs: Key;
  /** Signs audit checkpoints (ECDSA P-256); its public half lets anyone check them. */
  readonly auditSigning: Key;
  /** Encrypts CloudTrail log files (CloudTrail itself is granted use in trail.ts). */
  readonly trail: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const common = {
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    };
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
    // AWS KMS does not rotate asymmetric keys; a new signing key is a new key id. The verifier accepts only
    // the configured key (never the one a checkpoint names): the replaced key's ARN goes into
    // KMS_AUDIT_RETIRED_SIGNING_KEY_IDS so that older checkpoints keep verifying (acknowledged in nag.ts).
    this.auditSigning = new Key(this, "AuditSigning", {
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      description: "CoachVault: signs audit checkpoints",
    });
    const region = Stack.of(this).region;
    this.logs.grantEncryptDecrypt(new ServicePrincipal(`logs.${region}.amazonaws.com`));
    this.logs.grantEncryptDecrypt(new ServicePrincipal("cloudwatch.amazonaws.com"));
  }
}
