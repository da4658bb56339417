import { Duration, Fn, RemovalPolicy, Stack } from "aws-cdk-lib";
import { ObjectLockRetention } from "aws-cdk-lib/aws-s3";
import type { IConstruct } from "constructs";
import type { StageSettings } from "./settings";

/**
 * What a stage's stateful resources do when the stack is deleted or a first deploy rolls back, from the
 * stage settings: prod keeps everything and protects it (the defaults), dev can be destroyed and deployed
 * again. Retained resources never carry a fixed physical name (CloudFormation names them, or the name has a
 * deploy-unique part), so a retried first deploy never meets "already exists".
 */
export type Lifecycle = {
  removalPolicy: RemovalPolicy;
  /** Deleting the stack also empties buckets that can be emptied (not those under Object Lock). */
  autoDeleteObjects: boolean;
  deletionProtection: boolean;
  objectLockMode: StageSettings["objectLockMode"];
};

export const lifecycleOf = (settings: StageSettings): Lifecycle => ({
  removalPolicy: settings.removalPolicy === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  autoDeleteObjects: settings.removalPolicy === "destroy",
  deletionProtection: settings.deletionProtection,
  objectLockMode: settings.objectLockMode,
});

/**
 * A part of a physical name unique to this deployment of the stack: the last group of the stack id's UUID.
 * For the few resources whose name must be given (a backup vault, a WAF log group): a retained one left by a
 * rolled-back first deploy does not block the next, which gets a new stack id.
 */
export const deployUnique = (scope: IConstruct): string =>
  Fn.select(4, Fn.split("-", Fn.select(2, Fn.split("/", Stack.of(scope).stackId))));

/** Object Lock default retention of a bucket, in the stage's mode. */
export const objectLockRetention = (mode: Lifecycle["objectLockMode"], days: number) =>
  mode === "COMPLIANCE"
    ? ObjectLockRetention.compliance(Duration.days(days))
    : ObjectLockRetention.governance(Duration.days(days));
