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
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import type { AwsService } from "./permissions";

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
    props: { flowLogBucket: IBucket; services: ReadonlySet<AwsService> },
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
    if (props.services.has("dynamodb"))
      this.vpc.addGatewayEndpoint("DynamoDb", { service: GatewayVpcEndpointAwsService.DYNAMODB });
    if (props.services.has("s3"))
      this.vpc.addGatewayEndpoint("S3", { service: GatewayVpcEndpointAwsService.S3 });
    const interfaces: Record<string, InterfaceVpcEndpointAwsService> = {
      Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      XRay: InterfaceVpcEndpointAwsService.XRAY,
    };
    for (const [service, { id, endpoint }] of Object.entries(INTERFACE_ENDPOINTS))
      if (props.services.has(service as AwsService)) interfaces[id] = endpoint;
    for (const [name, service] of Object.entries(interfaces)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [endpoints],
        open: false,
      });
    }
  }
}
