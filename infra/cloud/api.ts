import { Duration, Fn, NestedStack } from "aws-cdk-lib";
import {
  AccessLogFormat,
  AuthorizationType,
  CfnClientCertificate,
  type CfnRestApi,
  CognitoUserPoolsAuthorizer,
  EndpointType,
  type IResource,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  type Model,
  RequestValidator,
  RestApi,
} from "aws-cdk-lib/aws-apigateway";
import type { IUserPool } from "aws-cdk-lib/aws-cognito";
import type { ManagedPolicy } from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { CfnLoggingConfiguration, CfnWebACLAssociation } from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import * as z from "zod";
import { type RouteSpec, routeLimits } from "../../shared/http/route";
import { bundledFunction, type FunctionDefaults, ROUTE_CONCURRENCY } from "./functions";
import { addGatewayResponses, addPreflight } from "./gateway-responses";
import { deployUnique } from "./lifecycle";
import { apiWebAcl, webAclName } from "./waf";

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
 * execution logs (never request bodies), X-Ray, and the security headers (and CORS) on what the gateway
 * answers itself: gateway responses and preflights (`gateway-responses.ts`).
 */
export class Api extends Construct {
  readonly restApi: RestApi;
  readonly functions: Record<string, NodejsFunction> = {};
  readonly policies: ManagedPolicy[] = [];
  /** Methods without an authorizer (only PHI-free routes such as /health); nag.ts acknowledges these. */
  readonly publicMethods: Method[] = [];
  /** The access log (one JSON line per request, status and IP among them): its 401s feed security signals. */
  readonly accessLogs: LogGroup;
  /** The web ACL's name (its metrics' `WebACL` dimension). */
  webAclName = "";
  /** The web ACL's ARN (the compliance report checks that it protects the stage). */
  webAclArn = "";

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, "AccessLogs", {
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: props.logRemoval,
    });
    this.accessLogs = accessLogs;
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
      disableExecuteApiEndpoint: false,
    });
    // API Gateway would create its execution log group itself, unencrypted and kept forever: the stack
    // creates it first, under the name API Gateway writes to, encrypted and with retention.
    const executionLogs = new LogGroup(this, "ExecutionLogs", {
      logGroupName: Fn.join("", ["API-Gateway-Execution-Logs_", this.restApi.restApiId, `/${props.stage}`]),
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: props.logRemoval,
    });
    this.restApi.deploymentStage.node.addDependency(executionLogs);
    const cfnApi = this.restApi.node.defaultChild as CfnRestApi;
    // TLS 1.3, or TLS 1.2 with forward secrecy only.
    cfnApi.securityPolicy = "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09";
    cfnApi.endpointAccessMode = "STRICT";

    addGatewayResponses(this.restApi, props.allowedOrigins);

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
    // Preflight answers on every path of a route (the local gateway answers the same).
    const paths = [...new Set(props.routes.map((route) => route.path))];
    for (const path of paths) {
      const methods = props.routes.filter((route) => route.path === path).map((route) => route.method);
      addPreflight(this.resourceFor(path), methods, props.allowedOrigins);
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
    const acl = apiWebAcl(this, "Waf", { stage, routes: props.routes, allowedOrigins: props.allowedOrigins });
    this.webAclName = webAclName(stage);
    this.webAclArn = acl.attrArn;
    new CfnWebACLAssociation(this, "WafAssociation", {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: acl.attrArn,
    });
    // WAF requires its log group's name to start with aws-waf-logs-. Tokens are redacted from the logs.
    const wafLogs = new LogGroup(this, "WafLogs", {
      logGroupName: `aws-waf-logs-coachvault-${stage}-${deployUnique(this)}`,
      encryptionKey: props.logsKey,
      retention: props.logRetention,
      removalPolicy: props.logRemoval,
    });
    new CfnLoggingConfiguration(this, "WafLogging", {
      resourceArn: acl.attrArn,
      logDestinationConfigs: [wafLogs.logGroupArn],
      redactedFields: [{ singleHeader: { Name: "authorization" } }, { singleHeader: { Name: "cookie" } }],
    });
  }
}
