import { CfnOutput, Fn, type Stack } from "aws-cdk-lib";
import { Construct } from "constructs";
import type { BucketName, TableName } from "../resources";

/**
 * Everything the stateless stack reads from the stateful one (names, ARNs, ids), as plain strings.
 *
 * Handed over as CloudFormation exports with fixed names, `coachvault-<stage>-<path>`, never as CDK's
 * automatic cross-stack references. The stateful stack exports the whole handover whatever the stateless
 * stack uses today, so a reference the stateless stack stops using never removes an export, and the
 * classic "Export … cannot be deleted as it is in use" cannot stop a deploy of the stateful stack. What
 * the lock still does is what we want from it: CloudFormation refuses to replace a key, table or bucket
 * the API points at, and to delete the stateful stack while the stateless one stands. (SSM parameters
 * would not lock, and so would let the stateful stack change or vanish under a running API.)
 */
export type Handover = {
  tables: Record<TableName, { name: string; arn: string; streamArn?: string }>;
  buckets: Record<BucketName, { name: string; arn: string }>;
  /** Key ARNs, by purpose (keys.ts). */
  keys: { data: string; storage: string; logs: string; auditSigning: string; trail: string; backups: string };
  /** The backup vault (what the compliance report's backup check reads). */
  backupVault: { name: string; arn: string };
  userPool: { id: string; arn: string; clientId: string };
  alarmTopicArn: string;
  /** Log groups the stateless stack's jobs subscribe to, by name (`functions/jobs.ts` LOG_SOURCES). */
  logs: { userAuthEvents: string };
  /** With `useVpc`: where the functions run. */
  network?: {
    vpcId: string;
    availabilityZones: string[];
    isolatedSubnetIds: string[];
    isolatedSubnetRouteTableIds: string[];
    securityGroupId: string;
  };
};

/** A handover value's export name: `coachvault-<stage>-tables-audit-streamArn`. */
export const exportName = (stage: string, path: readonly string[]) => `coachvault-${stage}-${path.join("-")}`;

function mapLeaves<T>(value: T, leaf: (value: string, path: string[]) => string, path: string[] = []): T {
  if (typeof value === "string") return leaf(value, path) as T;
  if (Array.isArray(value))
    return value.map((item, index) => mapLeaves(item, leaf, [...path, String(index)])) as T;
  return Object.fromEntries(
    Object.entries(value as object).map(([key, item]) => [key, mapLeaves(item, leaf, [...path, key])]),
  ) as T;
}

/** The stateful side: one output per value, exported under its fixed name. */
export class HandoverExports extends Construct {
  constructor(scope: Stack, id: string, stage: string, handover: Handover) {
    super(scope, id);
    mapLeaves(handover, (value, path) => {
      new CfnOutput(this, path.join("-"), { value, exportName: exportName(stage, path) });
      return value;
    });
  }
}

/**
 * The stateless side: the same shape (taken from the stateful stack of the same app, for the length of its
 * lists), every value an `Fn::ImportValue` of its fixed name and nothing a reference into the other stack.
 */
export const importHandover = (stage: string, shape: Handover): Handover =>
  mapLeaves(shape, (_value, path) => Fn.importValue(exportName(stage, path)));
