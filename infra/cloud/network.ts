import { Stack } from "aws-cdk-lib";
import {
  FlowLogDestination,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { AnyPrincipal, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { resourceName } from "../resources";
import { stageLogGroups } from "./keys";
import type { AwsService } from "./permissions";

/**
 * What the functions may reach through the VPC endpoints: this stage's resources only (an endpoint policy
 * applies on top of the functions' own policies, so a stolen role cannot use the endpoints against anything
 * else, such as another account's bucket to exfiltrate to).
 */
export type EndpointScope = {
  stage: string;
  tableArns: readonly string[];
  buckets: readonly IBucket[];
  keyArns: readonly string[];
  /** Keys only described (rotation, spec) through the endpoint: the compliance report's key check. */
  inspectedKeyArns: readonly string[];
  userPoolArn: string;
  alarmTopicArn: string;
};

/**
 * Interface endpoints by service (construct ids kept stable: replacing a private-DNS endpoint in place
 * fails); DynamoDB and S3 get gateway endpoints; Logs and X-Ray every function uses.
 */
const INTERFACE_ENDPOINTS: Readonly<
  Record<Exclude<AwsService, "dynamodb" | "s3">, { id: string; endpoint: InterfaceVpcEndpointAwsService }>
> = {
  kms: { id: "Kms", endpoint: InterfaceVpcEndpointAwsService.KMS },
  "cognito-idp": { id: "Cognito", endpoint: InterfaceVpcEndpointAwsService.COGNITO_IDP },
  comprehendmedical: { id: "ComprehendMedical", endpoint: InterfaceVpcEndpointAwsService.COMPREHEND_MEDICAL },
  lambda: { id: "Lambda", endpoint: InterfaceVpcEndpointAwsService.LAMBDA },
  sns: { id: "Sns", endpoint: InterfaceVpcEndpointAwsService.SNS },
  // What the compliance report's infrastructure checks read (`compliance:inspect`).
  cloudtrail: { id: "CloudTrail", endpoint: InterfaceVpcEndpointAwsService.CLOUDTRAIL },
  wafv2: { id: "Wafv2", endpoint: InterfaceVpcEndpointAwsService.WAFV2 },
  backup: { id: "Backup", endpoint: InterfaceVpcEndpointAwsService.BACKUP },
};

/**
 * Optional (context `useVpc`): functions in isolated subnets with no route to the internet; AWS
 * services through VPC endpoints only, reachable from the functions' security group alone; flow logs on.
 * The endpoints are those of the services the manifests' permissions reach (`services`), so a function
 * given a new kind of permission cannot find itself without a way to the service.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly functionsSecurityGroup: SecurityGroup;

  constructor(
    scope: Construct,
    id: string,
    props: { flowLogBucket: IBucket; services: ReadonlySet<AwsService>; scope: EndpointScope },
  ) {
    super(scope, id);
    this.vpc = new Vpc(this, "Vpc", {
      ipAddresses: IpAddresses.cidr("10.40.0.0/16"),
      maxAzs: 2,
      natGateways: 0,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [{ name: "functions", subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      flowLogs: { all: { destination: FlowLogDestination.toS3(props.flowLogBucket, "vpc-flow-logs/") } },
    });
    this.functionsSecurityGroup = new SecurityGroup(this, "Functions", {
      vpc: this.vpc,
      description: "CoachVault functions: no inbound, outbound only inside the isolated VPC",
      allowAllOutbound: true,
    });
    const endpoints = new SecurityGroup(this, "Endpoints", {
      vpc: this.vpc,
      description: "VPC interface endpoints: HTTPS from the functions only",
      allowAllOutbound: false,
    });
    endpoints.addIngressRule(this.functionsSecurityGroup, Port.tcp(443), "HTTPS from CoachVault functions");
    const policies = endpointPolicies(this, props.scope);
    if (props.services.has("dynamodb")) {
      const endpoint = this.vpc.addGatewayEndpoint("DynamoDb", {
        service: GatewayVpcEndpointAwsService.DYNAMODB,
      });
      for (const statement of policies.dynamodb) endpoint.addToPolicy(statement);
    }
    if (props.services.has("s3")) {
      const endpoint = this.vpc.addGatewayEndpoint("S3", { service: GatewayVpcEndpointAwsService.S3 });
      for (const statement of policies.s3) endpoint.addToPolicy(statement);
    }
    const interfaces: Record<
      string,
      { service: InterfaceVpcEndpointAwsService; policy: readonly PolicyStatement[] }
    > = {
      Logs: { service: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS, policy: policies.logs },
      XRay: { service: InterfaceVpcEndpointAwsService.XRAY, policy: policies.xray },
    };
    for (const [service, { id, endpoint }] of Object.entries(INTERFACE_ENDPOINTS))
      if (props.services.has(service as AwsService))
        interfaces[id] = { service: endpoint, policy: policies[service as keyof typeof INTERFACE_ENDPOINTS] };
    for (const [name, { service, policy }] of Object.entries(interfaces)) {
      const endpoint = this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [endpoints],
        open: false,
      });
      for (const statement of policy) endpoint.addToPolicy(statement);
    }
  }
}

/** Per endpoint, the statements of its policy: the stage's resources, the account's principals. */
function endpointPolicies(scope: Construct, resources: EndpointScope) {
  const { account, partition, region } = Stack.of(scope);
  const inAccount = { StringEquals: { "aws:PrincipalAccount": account } };
  const allow = (actions: string[], arns: string[], callers: "account" | "anyone" = "account") => [
    new PolicyStatement({
      principals: [new AnyPrincipal()],
      actions,
      resources: arns,
      ...(callers === "account" && { conditions: inAccount }),
    }),
  ];
  return {
    dynamodb: allow(
      ["dynamodb:*"],
      resources.tableArns.flatMap((arn) => [arn, `${arn}/index/*`, `${arn}/stream/*`]),
    ),
    s3: allow(
      ["s3:*"],
      resources.buckets.flatMap((bucket) => [bucket.bucketArn, bucket.arnForObjects("*")]),
    ),
    kms: [
      ...allow(["kms:*"], [...resources.keyArns]),
      ...allow(["kms:DescribeKey", "kms:GetKeyRotationStatus"], [...resources.inspectedKeyArns]),
    ],
    lambda: allow(
      ["lambda:InvokeFunction"],
      [`arn:${partition}:lambda:${region}:${account}:function:${resourceName(resources.stage, "*")}`],
    ),
    // The alarm topic, which functions publish findings to (and whose subscriptions the report reads).
    sns: allow(["sns:Publish", "sns:GetTopicAttributes"], [resources.alarmTopicArn]),
    // Cognito evaluates endpoint policies for unauthenticated calls too (no principal account to match).
    "cognito-idp": allow(["cognito-idp:*"], [resources.userPoolArn], "anyone"),
    // DetectPHI and X-Ray's calls accept no resource but "*".
    comprehendmedical: allow(["comprehendmedical:DetectPHI"], ["*"]),
    xray: allow(
      [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ],
      ["*"],
    ),
    logs: [
      ...allow(
        ["logs:*"],
        stageLogGroups(resources.stage).map(
          (name) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`,
        ),
      ),
      // The report's log group check lists groups: an action that takes no resource but "*".
      ...allow(["logs:DescribeLogGroups"], ["*"]),
    ],
    // The report's infrastructure checks only read configuration, and these reads take "*" or any ARN.
    cloudtrail: allow(
      ["cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"],
      ["*"],
    ),
    wafv2: allow(["wafv2:GetWebACLForResource", "wafv2:GetWebACL"], ["*"]),
    backup: allow(["backup:ListBackupJobs"], ["*"]),
  } satisfies Record<AwsService | "logs" | "xray", readonly PolicyStatement[]>;
}
