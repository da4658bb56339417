import { Duration, NestedStack, RemovalPolicy } from "aws-cdk-lib";
import {
  AccessLogFormat,
  AuthorizationType,
  CfnClientCertificate,
  type CfnRestApi,
  CognitoUserPoolsAuthorizer,
  Cors,
  EndpointType,
  type IResource,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  type Model,
  RequestValidator,
  ResponseType,
  RestApi,
} from "aws-cdk-lib/aws-apigateway";
import type { IUserPool } from "aws-cdk-lib/aws-cognito";
import type { ManagedPolicy } from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import * as z from "zod";
import { type RouteSpec, routeLimits } from "../../shared/http/route";
import { SECURITY_HEADERS } from "../../shared/http/security-headers";
import { bundledFunction, type FunctionDefaults, ROUTE_CONCURRENCY } from "./functions";

type Route = RouteSpec & { id: string };

export type ApiProps = FunctionDefaults & {
  stage: string;
  routes: readonly Route[];
  userPool: IUserPool;
  allowedOrigins: readonly string[];
  /** Stage setting `reservedConcurrency`: each route reserves its manifest concurrency (else 10), or none. */
  reserveConcurrency: boolean;
};

/**
 * The REST API: one bundled function per manifest route, Cognito authorizer, WAF, access and
 * execution logs (never request bodies), X-Ray, and security headers on gateway-made responses.
 */
export class Api extends Construct {
  readonly restApi: RestApi;
  readonly functions: Record<string, NodejsFunction> = {};
  readonly policies: ManagedPolicy[] = [];
  /** Methods without an authorizer (only PHI-free routes such as /health); nag.ts acknowledges these. */
  readonly publicMethods: Method[] = [];

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, "AccessLogs", {
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.restApi = new RestApi(this, "Rest", {
      restApiName: `coachvault-${props.stage}`,
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stage,
        // Lets a backend verify calls come from this API (HIPAA: transmission security).
        clientCertificateId: new CfnClientCertificate(this, "ClientCertificate", {
          description: `coachvault-${props.stage} backend certificate`,
        }).attrClientCertificateId,
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.INFO,
        // Data tracing would write request and response bodies — PHI — to the execution log.
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: 200,
        throttlingBurstLimit: 400,
        cachingEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
      defaultCorsPreflightOptions: {
        allowOrigins: [...props.allowedOrigins],
        allowMethods: Cors.ALL_METHODS,
        allowHeaders: ["Authorization", "Content-Type"],
        maxAge: Duration.minutes(10),
      },
      disableExecuteApiEndpoint: false,
    });
    const cfnApi = this.restApi.node.defaultChild as CfnRestApi;
    // TLS 1.3, or TLS 1.2 with forward secrecy only.
    cfnApi.securityPolicy = "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09";
    cfnApi.endpointAccessMode = "STRICT";

    const quoted = Object.fromEntries(
      Object.entries(SECURITY_HEADERS).map(([name, value]) => [name, `'${value}'`]),
    );
    for (const type of [ResponseType.DEFAULT_4XX, ResponseType.DEFAULT_5XX]) {
      this.restApi.addGatewayResponse(`Response${type.responseType}`, { type, responseHeaders: quoted });
    }

    const authorizer = new CognitoUserPoolsAuthorizer(this, "Authorizer", {
      cognitoUserPools: [props.userPool],
      resultsCacheTtl: Duration.minutes(0),
    });

    // The gateway checks bodies against the same Zod schemas (as JSON Schema draft 4) before any function runs.
    const validator = new RequestValidator(this, "Validator", {
      restApi: this.restApi,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // The route functions (a function, its role, policy and log group, its invoke permission: five resources
    // a route) in a nested stack of their own, so that the stateless stack keeps room for the routes to come.
    const functions = new NestedStack(this, "Functions", {
      description: `coachvault-${props.stage}: the route functions`,
    });
    for (const route of props.routes) {
      const concurrency = props.reserveConcurrency ? (route.concurrency ?? ROUTE_CONCURRENCY) : undefined;
      const { fn, policy } = bundledFunction(
        functions,
        { ...route, ...routeLimits(route), concurrency },
        props,
      );
      this.functions[route.id] = fn;
      this.policies.push(policy);
      const body = route.request?.body;
      const method = this.resourceFor(route.path).addMethod(
        route.method,
        new LambdaIntegration(fn, { allowTestInvoke: false }),
        {
          ...(route.auth === "cognito"
            ? { authorizer, authorizationType: AuthorizationType.COGNITO }
            : { authorizationType: AuthorizationType.NONE }),
          requestValidator: validator,
          ...(body && { requestModels: { "application/json": this.model(route.id, body) } }),
        },
      );
      if (route.auth === "none") this.publicMethods.push(method);
    }
    this.addWaf(props.stage, props);
  }

  private resourceFor(path: string): IResource {
    return path
      .split("/")
      .filter(Boolean)
      .reduce<IResource>(
        (parent, part) => parent.getResource(part) ?? parent.addResource(part),
        this.restApi.root,
      );
  }

  private model(id: string, schema: z.ZodType): Model {
    const { $schema: _draft, ...jsonSchema } = z.toJSONSchema(schema, {
      target: "draft-4",
      io: "input",
      unrepresentable: "any",
    });
    return this.restApi.addModel(`${id}Model`, {
      contentType: "application/json",
      schema: { ...jsonSchema, schema: JsonSchemaVersion.DRAFT4 } as never,
    });
  }

  private addWaf(stage: string, props: ApiProps) {
    const managed = (name: string, priority: number) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: "AWS", name } },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: false },
    });
    const acl = new CfnWebACL(this, "Waf", {
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: `coachvault-${stage}`,
        sampledRequestsEnabled: false,
      },
      rules: [
        managed("AWSManagedRulesCommonRuleSet", 1),
        managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
        managed("AWSManagedRulesSQLiRuleSet", 3),
        managed("AWSManagedRulesAmazonIpReputationList", 4),
        {
          name: "RateLimitPerIp",
          priority: 10,
          action: { block: {} },
          // 100 requests a minute per coach (seed 000), as a 5-minute window per source IP.
          statement: { rateBasedStatement: { limit: 500, aggregateKeyType: "IP", evaluationWindowSec: 300 } },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: "RateLimitPerIp",
            sampledRequestsEnabled: false,
          },
        },
      ],
    });
    new CfnWebACLAssociation(this, "WafAssociation", {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: acl.attrArn,
    });
    // WAF requires its log group's name to start with aws-waf-logs-. Tokens are redacted from the logs.
    const wafLogs = new LogGroup(this, "WafLogs", {
      logGroupName: `aws-waf-logs-coachvault-${stage}`,
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new CfnLoggingConfiguration(this, "WafLogging", {
      resourceArn: acl.attrArn,
      logDestinationConfigs: [wafLogs.logGroupArn],
      redactedFields: [{ singleHeader: { Name: "authorization" } }, { singleHeader: { Name: "cookie" } }],
    });
  }
}
