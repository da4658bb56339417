import { CfnResource, CustomResourceProviderBase, Fn, type RemovalPolicy, type Stack } from "aws-cdk-lib";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";

/**
 * The functions behind CDK's custom resources (the VPC's default security group clean-up, emptying buckets of
 * a destroyable stage, …) would have Lambda create their log groups on first run: unencrypted and kept
 * forever. For each such function in the stack, this creates its log group (`/aws/lambda/<function name>`)
 * first, encrypted with the logs key and with the stage's retention, and makes every custom resource wait
 * for it. Call it last, once every construct of the stack exists.
 */
export function customResourceLogs(
  stack: Stack,
  props: { logsKey: IKey; logRetention: RetentionDays; logRemoval: RemovalPolicy },
): LogGroup[] {
  const handlers = stack.node
    .findAll()
    .filter((construct) => construct instanceof CustomResourceProviderBase)
    .map((provider) => provider.node.tryFindChild("Handler"))
    .filter((handler): handler is CfnResource => handler instanceof CfnResource);
  const groups = handlers.map(
    (handler) =>
      new LogGroup(handler.node.scope ?? stack, "Logs", {
        logGroupName: Fn.join("", ["/aws/lambda/", handler.ref]),
        encryptionKey: props.logsKey,
        retention: props.logRetention,
        removalPolicy: props.logRemoval,
      }),
  );
  const customResources = stack.node
    .findAll()
    .filter(
      (construct): construct is CfnResource =>
        construct instanceof CfnResource &&
        (construct.cfnResourceType.startsWith("Custom::") ||
          construct.cfnResourceType === "AWS::CloudFormation::CustomResource"),
    );
  for (const resource of customResources) for (const group of groups) resource.node.addDependency(group);
  return groups;
}
