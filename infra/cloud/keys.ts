import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";

/**
 * Customer-managed KMS keys, one per purpose so that a grant for one never opens another:
 * `data` wraps the per-client data keys, `storage` encrypts tables and buckets at rest, `logs`
 * encrypts CloudWatch log groups and the alarm topic.
 */
export class Keys extends Construct {
  readonly data: Key;
  readonly storage: Key;
  readonly logs: Key;

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
    const region = Stack.of(this).region;
    this.logs.grantEncryptDecrypt(new ServicePrincipal(`logs.${region}.amazonaws.com`));
    this.logs.grantEncryptDecrypt(new ServicePrincipal("cloudwatch.amazonaws.com"));
  }
}
