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

/**
 * Optional (context `useVpc`): functions in isolated subnets with no route to the internet; AWS
 * services through VPC endpoints only, reachable from the functions' security group alone; flow logs on.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly functionsSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: { flowLogBucket: IBucket }) {
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
    this.vpc.addGatewayEndpoint("DynamoDb", { service: GatewayVpcEndpointAwsService.DYNAMODB });
    this.vpc.addGatewayEndpoint("S3", { service: GatewayVpcEndpointAwsService.S3 });
    for (const [name, service] of Object.entries({
      Kms: InterfaceVpcEndpointAwsService.KMS,
      Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      XRay: InterfaceVpcEndpointAwsService.XRAY,
      Cognito: InterfaceVpcEndpointAwsService.COGNITO_IDP,
      ComprehendMedical: InterfaceVpcEndpointAwsService.COMPREHEND_MEDICAL,
    })) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [endpoints],
        open: false,
      });
    }
  }
}
