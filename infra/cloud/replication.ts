import { Stack } from "aws-cdk-lib";
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { type IKey, Key } from "aws-cdk-lib/aws-kms";
import { Bucket, type BucketProps, type IBucket } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import type { StageSettings } from "./settings";

export type ReplicaBucket = keyof NonNullable<StageSettings["replication"]>["buckets"];

/**
 * Cross-region replication of the stage's buckets into buckets the operator made in another region (stage
 * setting `replication`; README, "Replication"): every new object version, sealed again under the replica
 * region's key. One role for all of them, holding one customer-managed policy: read and replicate exactly the
 * source buckets' versions into exactly their destinations.
 */
export class Replication extends Construct {
  readonly role: Role;
  readonly policy: ManagedPolicy;
  private readonly replicaKey: IKey;

  constructor(
    scope: Construct,
    id: string,
    private readonly settings: NonNullable<StageSettings["replication"]>,
  ) {
    super(scope, id);
    this.role = new Role(this, "Role", { assumedBy: new ServicePrincipal("s3.amazonaws.com") });
    this.policy = new ManagedPolicy(this, "Policy", { roles: [this.role] });
    this.replicaKey = Key.fromKeyArn(this, "ReplicaKey", settings.kmsKeyArn);
  }

  /** The bucket properties that replicate `name` to its destination (a KMS-encrypted source is re-encrypted). */
  bucketProps(
    name: ReplicaBucket,
    sourceKey?: IKey,
  ): Pick<BucketProps, "replicationRole" | "replicationRules"> {
    const destination = this.settings.buckets[name];
    if (!destination) throw new Error(`replication has no destination for the ${name} bucket`);
    return {
      replicationRole: this.role,
      replicationRules: [
        {
          destination: Bucket.fromBucketArn(this, `${name}Destination`, destination),
          ...(sourceKey && { sseKmsEncryptedObjects: true, kmsKey: this.replicaKey }),
        },
      ],
    };
  }

  /** What the role needs to replicate `source` (after the bucket exists: its ARN is the resource). */
  grant(name: ReplicaBucket, source: IBucket, sourceKey?: IKey): void {
    const destination = this.settings.buckets[name] as string;
    const { region } = Stack.of(this);
    this.policy.addStatements(
      new PolicyStatement({
        actions: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
        resources: [source.bucketArn],
      }),
      new PolicyStatement({
        actions: [
          "s3:GetObjectVersionForReplication",
          "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging",
          "s3:GetObjectRetention",
          "s3:GetObjectLegalHold",
        ],
        resources: [source.arnForObjects("*")],
      }),
      new PolicyStatement({
        actions: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
        resources: [`${destination}/*`],
      }),
      ...(sourceKey
        ? [
            // Only through S3, only for these buckets' objects (S3's encryption context is the bucket's ARN
            // with bucket keys, the object's without).
            new PolicyStatement({
              actions: ["kms:Decrypt"],
              resources: [sourceKey.keyArn],
              conditions: inS3(region, source.bucketArn),
            }),
            new PolicyStatement({
              actions: ["kms:Encrypt", "kms:GenerateDataKey"],
              resources: [this.settings.kmsKeyArn],
              conditions: inS3(this.settings.kmsKeyArn.split(":")[3] as string, destination),
            }),
          ]
        : []),
    );
  }
}

const inS3 = (region: string, bucketArn: string) => ({
  StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` },
  StringLike: { "kms:EncryptionContext:aws:s3:arn": [bucketArn, `${bucketArn}/*`] },
  "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["aws:s3:arn"] },
});
