import { fileURLToPath } from "node:url";
import { Duration, type RemovalPolicy, Stack } from "aws-cdk-lib";
import type { ISecurityGroup, IVpc } from "aws-cdk-lib/aws-ec2";
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { DEFAULT_FUNCTION_LIMITS, type Permission } from "../../shared/http/route";
import {
  inspectionEnvironment,
  inspectionTargets,
  type PermissionTargets,
  statementsFor,
  storageKeyStatement,
} from "./permissions";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** One argument for the POSIX shell that runs bundling hooks, whatever characters the path holds. */
const shellArgument = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/**
 * Bundling shared by every function: ESM, minified, the AWS SDK from the Lambda runtime. The source map's
 * paths are made independent of where the project and the output directory are (`portable-source-map.mjs`),
 * so the asset hashes depend on the code alone and a deploy from another checkout changes no function.
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  target: "node22",
  mainFields: ["module", "main"],
  externalModules: ["@aws-sdk/*"],
  // Some dependencies still call require(); give ESM bundles one.
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    // `inputDir` is the project root (or its mount, when bundling in a container).
    afterBundling: (inputDir: string, outputDir: string) => [
      ["node", `${inputDir}/infra/cloud/portable-source-map.mjs`, outputDir, inputDir]
        .map(shellArgument)
        .join(" "),
    ],
  },
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
  /** What deleting the stack does to log groups (the stage's removal policy). */
  logRemoval: RemovalPolicy;
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
  /** `internet`: outside the VPC even when the stage has one (`functions/jobs.ts` says when). */
  network?: "internet";
};

const NETWORK_INTERFACE_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

/**
 * Actions AWS authorizes on no resource but "*". No function's own policy names them: each group is one
 * customer-managed policy of the stack, shared by the functions that need it, so that `Resource::*` is
 * acknowledged once per group (nag.ts) and every function's own policy names its resources.
 */
const WILDCARD_ONLY = {
  /** X-Ray tracing: every function. */
  Tracing: {
    actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    grantedTo: (_permissions: readonly Permission[], _inVpc: boolean) => true,
  },
  /** The network interfaces Lambda makes for a function placed in the VPC. */
  NetworkInterfaces: {
    actions: NETWORK_INTERFACE_ACTIONS,
    grantedTo: (_permissions: readonly Permission[], inVpc: boolean) => inVpc,
  },
  /** Comprehend Medical DetectPHI (no resource-level permissions): the functions holding `phi:detect`. */
  PhiDetection: {
    actions: ["comprehendmedical:DetectPHI"],
    grantedTo: (permissions: readonly Permission[], _inVpc: boolean) => permissions.includes("phi:detect"),
  },
  /** Listing backup jobs and describing log groups (read-only, no resource-level permissions): `compliance:inspect`. */
  ComplianceInspection: {
    actions: ["backup:ListBackupJobs", "logs:DescribeLogGroups"],
    grantedTo: (permissions: readonly Permission[], _inVpc: boolean) =>
      permissions.includes("compliance:inspect"),
  },
} as const;
type WildcardOnlyGrant = keyof typeof WILDCARD_ONLY;

const wildcardOnlyId = (grant: WildcardOnlyGrant) => `WildcardOnly${grant}Policy`;

/** The top-level stack of a construct (functions live in nested stacks; their shared policies do not). */
const rootStack = (scope: Construct): Stack => {
  let stack = Stack.of(scope);
  while (stack.nestedStackParent) stack = stack.nestedStackParent;
  return stack;
};

/**
 * The stack's one shared policy for a group of wildcard-only actions (made by its first function), in the
 * top-level stack: roles in nested stacks take its ARN as one parameter, and it is acknowledged once.
 */
function wildcardOnlyPolicy(scope: Construct, grant: WildcardOnlyGrant): ManagedPolicy {
  const stack = rootStack(scope);
  const existing = stack.node.tryFindChild(wildcardOnlyId(grant));
  if (existing instanceof ManagedPolicy) return existing;
  return new ManagedPolicy(stack, wildcardOnlyId(grant), {
    statements: [new PolicyStatement({ actions: [...WILDCARD_ONLY[grant].actions], resources: ["*"] })],
  });
}

/** The shared wildcard-only policies of a stack (what nag.ts acknowledges `Resource::*` on). */
export const wildcardOnlyPolicies = (stack: Stack): ManagedPolicy[] =>
  (Object.keys(WILDCARD_ONLY) as WildcardOnlyGrant[])
    .map((grant) => stack.node.tryFindChild(wildcardOnlyId(grant)))
    .filter((policy): policy is ManagedPolicy => policy instanceof ManagedPolicy);

/**
 * Settings only the functions holding a permission receive, from the permission's targets: where to publish
 * findings (`security:alert`, shared/security/events.ts), what the infrastructure checks inspect.
 */
export const PERMISSION_ENVIRONMENT: Partial<
  Record<Permission, (targets: PermissionTargets) => Record<string, string>>
> = {
  "security:alert": (targets) => ({ ALARM_TOPIC_ARN: targets.alarmTopicArn }),
  "compliance:inspect": (targets) => inspectionEnvironment(inspectionTargets(targets)),
};

/** The environment a function's permissions add to the stack's (`PERMISSION_ENVIRONMENT`). */
export const permissionEnvironment = (permissions: readonly Permission[], targets: PermissionTargets) =>
  Object.assign(
    {},
    ...permissions.map((permission) => PERMISSION_ENVIRONMENT[permission]?.(targets) ?? {}),
  ) as Record<string, string>;

/** What every function behind the authorizer needs: who the caller is, and to record refusals as signals. */
const AUTHENTICATED_READS: readonly Permission[] = [
  "directory:read",
  "auth:read-token-keys",
  "settings:read",
  "security:signal",
];
/** Every route behind the authorizer passes the rate limiter (shared/protection) before anything else. */
const AUTHENTICATED_LIMITS: readonly Permission[] = ["limits:consume"];

/**
 * A bundled nodejs22.x arm64 function with its own role holding one customer-managed policy: exactly
 * its manifest permissions and its own encrypted log group, every resource named. The wildcard-only
 * actions it needs (X-Ray, in a VPC its network interfaces, DetectPHI) come from the stack's shared
 * policies for them. The role is handed to the function immutable, so nothing can quietly add an
 * inline policy to it.
 */
export function bundledFunction(
  scope: Construct,
  spec: FunctionSpec,
  defaults: FunctionDefaults,
): { fn: NodejsFunction; policy: ManagedPolicy } {
  const network = spec.network === "internet" ? undefined : defaults.network;
  const logGroup = new LogGroup(scope, `${spec.id}Logs`, {
    encryptionKey: defaults.logsKey,
    retention: defaults.logRetention,
    removalPolicy: defaults.logRemoval,
  });
  const permissions = [
    // Behind the authorizer: the function verifies the token (the stored token keys), knows who the caller is,
    // reads its org's settings and passes the rate limiter (on every request).
    ...new Set([
      ...spec.permissions,
      ...(spec.auth === "cognito" ? [...AUTHENTICATED_READS, ...AUTHENTICATED_LIMITS] : []),
    ]),
  ];
  const statements = [
    new PolicyStatement({
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [`${logGroup.logGroupArn}:*`],
    }),
    ...permissions.flatMap((permission) => statementsFor(permission, defaults.permissions, spec)),
    ...(permissions.some(
      (permission) =>
        /^(records|directory|changes|keys|audit|transcripts|checkpoints|reports|cursors|auth|security|settings|idempotency|limits):/.test(
          permission,
        ) && permission !== "security:alert",
    )
      ? [storageKeyStatement(defaults.permissions)]
      : []),
  ];
  const role = new Role(scope, `${spec.id}Role`, { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
  const policy = new ManagedPolicy(scope, `${spec.id}Policy`, { statements, roles: [role] });
  const shared = (Object.keys(WILDCARD_ONLY) as WildcardOnlyGrant[])
    .filter((grant) => WILDCARD_ONLY[grant].grantedTo(permissions, network !== undefined))
    .map((grant) => wildcardOnlyPolicy(scope, grant));
  // From the role's side: a role in a nested stack then takes the policy's ARN as a parameter.
  for (const sharedPolicy of shared) role.addManagedPolicy(sharedPolicy);
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
      ...permissionEnvironment(permissions, defaults.permissions),
      POWERTOOLS_SERVICE_NAME: "coachvault",
      NODE_OPTIONS: "--enable-source-maps",
    },
    bundling: BUNDLING,
    role: Role.fromRoleArn(scope, `${spec.id}RoleRef`, role.roleArn, { mutable: false }),
    ...(network && {
      vpc: network.vpc,
      securityGroups: [network.functionsSecurityGroup],
      vpcSubnets: { subnets: network.vpc.isolatedSubnets },
    }),
  });
  // The function waits for its own policy (a resource of its own, attached through its Roles). The shared
  // ones are in the role's ManagedPolicyArns, so the role, and with it the function, comes after them:
  // Lambda checks the role's network-interface permissions when it creates a function in a VPC.
  fn.node.addDependency(policy);
  return { fn, policy };
}
