import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type { ISecurityGroup, IVpc } from "aws-cdk-lib/aws-ec2";
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { DEFAULT_FUNCTION_LIMITS, type Permission } from "../../shared/http/route";
import { type PermissionTargets, statementsFor, storageKeyStatement } from "./permissions";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Bundling shared by every function: ESM, minified, the AWS SDK from the Lambda runtime. */
export const BUNDLING = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  target: "node22",
  mainFields: ["module", "main"],
  externalModules: ["@aws-sdk/*"],
  // Some dependencies still call require(); give ESM bundles one.
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
};

/**
 * A route's reserved concurrency on a stage that reserves it (`reservedConcurrency`) when its manifest entry
 * names none: enough for a coach's bursts, and a flood on one route cannot take the others' share.
 */
export const ROUTE_CONCURRENCY = 10;

/** What every function of the stack shares. */
export type FunctionDefaults = {
  environment: Record<string, string>;
  logsKey: IKey;
  logRetention: RetentionDays;
  permissions: PermissionTargets;
  /** With `useVpc`: the isolated subnets of `vpc` and the functions' security group (network.ts). */
  network?: { vpc: IVpc; functionsSecurityGroup: ISecurityGroup };
};

/** One function: a route of the manifest or a scheduled job. */
export type FunctionSpec = {
  id: string;
  /** Module under `functions/` exporting `handler`. */
  handler: string;
  permissions: readonly Permission[];
  /** Functions behind the Cognito authorizer read the caller's directory entry on every request. */
  auth?: "cognito" | "none";
  /** Reserved concurrency; none when undefined. */
  concurrency?: number;
  timeoutSeconds?: number;
  memoryMb?: number;
  /** A fixed name, for functions others start by name (jobs); routes let CloudFormation name theirs. */
  functionName?: string;
};

/**
 * A bundled nodejs22.x arm64 function with its own role holding one customer-managed policy: exactly
 * its manifest permissions, its own encrypted log group, X-Ray, and (in a VPC) its network interfaces.
 * The role is handed to the function immutable, so nothing can quietly add an inline policy to it.
 */
export function bundledFunction(
  scope: Construct,
  spec: FunctionSpec,
  defaults: FunctionDefaults,
): { fn: NodejsFunction; policy: ManagedPolicy } {
  const logGroup = new LogGroup(scope, `${spec.id}Logs`, {
    encryptionKey: defaults.logsKey,
    retention: defaults.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const permissions = [
    ...new Set([...spec.permissions, ...(spec.auth === "cognito" ? (["records:read"] as const) : [])]),
  ];
  const statements = [
    new PolicyStatement({
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [`${logGroup.logGroupArn}:*`],
    }),
    new PolicyStatement({ actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] }),
    ...permissions.flatMap((permission) => statementsFor(permission, defaults.permissions)),
    ...(permissions.some((permission) =>
      /^(records|keys|audit|transcripts|checkpoints|cursors):/.test(permission),
    )
      ? [storageKeyStatement(defaults.permissions)]
      : []),
    ...(defaults.network
      ? [
          new PolicyStatement({
            actions: [
              "ec2:CreateNetworkInterface",
              "ec2:DescribeNetworkInterfaces",
              "ec2:DeleteNetworkInterface",
              "ec2:AssignPrivateIpAddresses",
              "ec2:UnassignPrivateIpAddresses",
            ],
            resources: ["*"],
          }),
        ]
      : []),
  ];
  const role = new Role(scope, `${spec.id}Role`, { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
  const policy = new ManagedPolicy(scope, `${spec.id}Policy`, { statements, roles: [role] });
  const fn = new NodejsFunction(scope, `${spec.id}Function`, {
    ...(spec.functionName && { functionName: spec.functionName }),
    entry: `${projectRoot}functions/${spec.handler}.ts`,
    handler: "handler",
    projectRoot,
    depsLockFilePath: `${projectRoot}package-lock.json`,
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: spec.memoryMb ?? DEFAULT_FUNCTION_LIMITS.memoryMb,
    timeout: Duration.seconds(spec.timeoutSeconds ?? DEFAULT_FUNCTION_LIMITS.timeoutSeconds),
    tracing: Tracing.ACTIVE,
    ...(spec.concurrency !== undefined && { reservedConcurrentExecutions: spec.concurrency }),
    logGroup,
    environment: {
      ...defaults.environment,
      POWERTOOLS_SERVICE_NAME: "coachvault",
      NODE_OPTIONS: "--enable-source-maps",
    },
    bundling: BUNDLING,
    role: Role.fromRoleArn(scope, `${spec.id}RoleRef`, role.roleArn, { mutable: false }),
    ...(defaults.network && {
      vpc: defaults.network.vpc,
      securityGroups: [defaults.network.functionsSecurityGroup],
      vpcSubnets: { subnets: defaults.network.vpc.isolatedSubnets },
    }),
  });
  fn.node.addDependency(policy);
  return { fn, policy };
}
