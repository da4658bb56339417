import { readFileSync } from "node:fs";
import { App, type CfnElement, NestedStack, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import {
  VERIFICATION_PARTITION_PATTERN,
  verificationKey,
  verificationRequestKey,
} from "../../functions/audit/verification";
import { jobList, jobs } from "../../functions/jobs";
import { routeList, routes } from "../../functions/routes";
import {
  AUDIT_ITEM_ATTRIBUTES,
  CHAIN_ID_PATTERN,
  DISCLOSURE_PARTITION_PATTERN,
  disclosurePartition,
} from "../../shared/audit/chain";
import { CURSOR_KEY_CONTEXT, CURSOR_KEY_ITEM } from "../../shared/crypto/cursor-key";
import { API_GATEWAY_TIMEOUT_SECONDS, routeLimits } from "../../shared/http/route";
import { TABLES } from "../resources";
import { buildApp } from "./app";
import { acknowledgments } from "./nag";
import { servicesOf } from "./permissions";
import { readSettings } from "./settings";
import { AUDIT_GUARDS, trailAlarms } from "./trail";

const TRAIL_ALARMS = trailAlarms("test");
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/**
 * The CDK app under both cdk-nag packs. `Template.fromStack` throws on any unacknowledged finding,
 * so every test here also fails the moment a change introduces a new one.
 */
const context = {
  stage: "test",
  account: "111122223333",
  region: "us-east-1",
  allowedOrigins: ["https://app.test.example"],
  logRetentionDays: 365,
  alarmEmail: "security@test.example",
  useVpc: true,
};

type Built = ReturnType<typeof buildApp>;

/**
 * Every template of a built app (both stacks and their nested stacks), read as CloudFormation will see them
 * deployed: a value handed over from the stateful stack (`Fn::ImportValue` of its fixed export name) or
 * passed into a nested stack (a parameter, a nested stack's output) is replaced by what it stands for. So a
 * policy in a nested stack of the stateless stack names the audit table by `{"Fn::GetAtt": [<table>, "Arn"]}`
 * here as it did in one stack, and `template` answers for the whole app (logical ids are unique across it).
 */
function synthesized(built: Built) {
  const stacks = [built.stateful, built.stateless].flatMap((stack) => [
    stack,
    ...stack.node.findAll().filter((construct) => NestedStack.isNestedStack(construct)),
  ]) as Stack[];
  const raw = stacks.map((stack) => Template.fromStack(stack).toJSON());
  const exported = Object.fromEntries(
    raw
      .flatMap((t) => Object.values(t.Outputs ?? {}) as { Value: unknown; Export?: { Name: string } }[])
      .filter((output) => output.Export)
      .map((output) => [output.Export?.Name, output.Value]),
  );
  const nestedOutputs = Object.fromEntries(
    raw
      .flatMap((t) => Object.entries(t.Outputs ?? {}) as [string, { Value: unknown }][])
      .map(([id, o]) => [id, o.Value]),
  );
  const nestedParameters = Object.fromEntries(
    raw.flatMap((t) =>
      (Object.values(t.Resources) as { Type: string; Properties: any }[])
        .filter((resource) => resource.Type === "AWS::CloudFormation::Stack")
        .flatMap((resource) => Object.entries(resource.Properties.Parameters ?? {})),
    ),
  );
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== "object") return value;
    const node = value as Record<string, any>;
    const imported = node["Fn::ImportValue"];
    if (typeof imported === "string" && imported in exported) return resolve(exported[imported]);
    if (typeof node.Ref === "string" && node.Ref in nestedParameters)
      return resolve(nestedParameters[node.Ref]);
    const output = /^Outputs\.(.+)$/.exec(String(node["Fn::GetAtt"]?.[1]))?.[1];
    if (output && output in nestedOutputs) return resolve(nestedOutputs[output]);
    return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, resolve(inner)]));
  };
  const all = raw.map((t) => resolve(t.Resources) as Record<string, { Type: string; Properties: any }>);
  const ids = all.flatMap((resourcesOf) => Object.keys(resourcesOf));
  if (new Set(ids).size !== ids.length) throw new Error("logical ids repeat across the app's templates");
  return {
    stacks,
    raw,
    template: Template.fromJSON({ Resources: Object.assign({}, ...all) }),
    resources: (type: string) =>
      all.flatMap((resourcesOf) => Object.values(resourcesOf).filter((resource) => resource.Type === type)),
  };
}

let built: Built;
let app: ReturnType<typeof synthesized>;
/** The whole app as one template (see `synthesized`). */
let template: Template;
/** The two stacks themselves, and the alarms' nested stack (see monitoring.ts). */
let stateful: Template;
let stateless: Template;
let monitoring: Template;

beforeAll(() => {
  built = buildApp(new App({ context }), {});
  app = synthesized(built);
  template = app.template;
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
  monitoring = Template.fromStack(built.stateless.monitoring);
});

it("deploys to the stage's pinned account and region", () => {
  for (const stack of [built.stateful, built.stateless])
    expect([stack.account, stack.region]).toEqual(["111122223333", "us-east-1"]);
});

/** Resources of a type in every stack of the app and their nested stacks (handed-over values resolved). */
const resources = (type: string) => app.resources(type);
const policies = () =>
  resources("AWS::IAM::ManagedPolicy").map((p) => JSON.stringify(p.Properties.PolicyDocument));

/** The routes and jobs the next issues add: every template keeps room for about this many more. */
const COMING_FUNCTIONS = 20;

describe("CloudFormation limits", () => {
  // A template is taken to grow in proportion to the functions (a conservative guess for the stateful stack,
  // which does not grow with them at all): today's count scaled to 20 more routes and jobs must still fit.
  const functionCount = routeList.length + jobList.length;
  const projected = (count: number) =>
    Math.ceil((count * (functionCount + COMING_FUNCTIONS)) / functionCount);
  const counted = (part: "Resources" | "Parameters" | "Outputs") =>
    app.stacks.map(
      (stack, index) => [stack.node.path, Object.keys(app.raw[index]?.[part] ?? {}).length] as const,
    );

  it("the stateful and the stateless stack, and each nested stack, stay under 300 resources with room for 20 more routes and jobs", () => {
    const counts = counted("Resources");
    expect(counts.map(([path]) => path)).toEqual(
      expect.arrayContaining(["CoachVault-test-Stateful", "CoachVault-test-Stateless"]),
    );
    for (const [path, count] of counts) expect(projected(count), `${path}: ${count} today`).toBeLessThan(300);
  });

  it("every template keeps its parameters and outputs within CloudFormation's 200, with the same room", () => {
    expect(Object.keys(monitoring.toJSON().Parameters ?? {}).length).toBeGreaterThan(0);
    for (const part of ["Parameters", "Outputs"] as const)
      for (const [path, count] of counted(part))
        expect(projected(count), `${path} ${part}: ${count} today`).toBeLessThanOrEqual(200);
  });

  it("reserved concurrency is what the README says the account's Lambda quota must cover (with Lambda's 100 unreserved), in prod and in dev", () => {
    const quotas = [...README.matchAll(/concurrency quota must be\s+at least\s+\*\*(\d+)\*\*/g)].map((m) =>
      Number(m[1]),
    );
    const reserved = (functions: { Properties: any }[]) =>
      functions.reduce((total, fn) => total + (fn.Properties.ReservedConcurrentExecutions ?? 0), 0);
    // A stage that reserves (the default outside dev): every function.
    const functions = resources("AWS::Lambda::Function").filter(
      (fn) => fn.Properties.Runtime === "nodejs22.x",
    );
    expect(functions.every((fn) => fn.Properties.ReservedConcurrentExecutions > 0)).toBe(true);
    // Dev (cdk.json turns reservedConcurrency off): the jobs alone, whose reservation keeps runs from racing.
    const cdkJson = JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8"));
    expect(readSettings((key) => cdkJson.context[key]).reservedConcurrency).toBe(false);
    const dev = synthesized(
      buildApp(
        new App({
          context: {
            ...context,
            stage: "unreserved",
            reservedConcurrency: false,
            "aws:cdk:bundling-stacks": [],
          },
        }),
      ),
    ).resources("AWS::Lambda::Function");
    const devFunctions = dev.filter((fn) => fn.Properties.Runtime === "nodejs22.x");
    const reservedInDev = devFunctions.filter(
      (fn) => fn.Properties.ReservedConcurrentExecutions !== undefined,
    );
    expect(reservedInDev.map((fn) => fn.Properties.FunctionName).sort()).toEqual(
      jobList.map((job) => `coachvault-unreserved-${job.id}`).sort(),
    );
    expect(quotas).toEqual([reserved(functions) + 100, reserved(devFunctions) + 100]);
  });

  it("no method lets the console's test-invoke call a function (only the deployed stage may)", () => {
    for (const permission of resources("AWS::Lambda::Permission"))
      expect(JSON.stringify(permission.Properties.SourceArn)).not.toContain("/test-invoke-stage/");
  });
});

describe("two stacks: stateful and stateless", () => {
  const STATEFUL_TYPES = [
    "AWS::KMS::Key",
    "AWS::DynamoDB::GlobalTable",
    "AWS::S3::Bucket",
    "AWS::Backup::BackupVault",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::CloudTrail::Trail",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::EC2::VPC",
  ];
  const statelessTemplates = () =>
    app.raw.filter((_, index) => app.stacks[index]?.node.path.startsWith("CoachVault-test-Stateless"));

  it("keys, tables, buckets, the user pool, the trail, the alarm topic and the network are in the stateful stack; the API, functions and WAF in the stateless one", () => {
    for (const type of STATEFUL_TYPES) {
      expect(Object.keys(stateful.findResources(type)).length, type).toBeGreaterThan(0);
      for (const t of statelessTemplates())
        expect(
          Object.values(t.Resources).filter((r: any) => r.Type === type),
          type,
        ).toHaveLength(0);
    }
    for (const type of ["AWS::ApiGateway::RestApi", "AWS::WAFv2::WebACL", "AWS::Lambda::EventSourceMapping"])
      stateful.resourceCountIs(type, 0);
    const statefulFunctions = Object.values(stateful.findResources("AWS::Lambda::Function")) as any[];
    expect(statefulFunctions.filter((fn) => fn.Properties.Runtime === "nodejs22.x")).toHaveLength(0);
  });

  it("the stateless stack reads the stateful one only through fixed-name exports of the whole handover; never the reverse", () => {
    const statefulJson = JSON.stringify(stateful.toJSON());
    expect(statefulJson).not.toContain("Fn::ImportValue");
    const exports = Object.values(
      stateful.toJSON().Outputs as Record<string, { Export?: { Name: string } }>,
    ).flatMap((output) => (output.Export ? [output.Export.Name] : []));
    // Every value of the handover, used today or not (so no use removed can ever delete an export in use).
    const leaves = (value: unknown): number =>
      typeof value === "string"
        ? 1
        : Object.values(value as object).reduce((n, inner) => n + leaves(inner), 0);
    expect(exports).toHaveLength(leaves(built.stateful.handover));
    for (const name of exports) expect(name).toMatch(/^coachvault-test-[A-Za-z0-9-]+$/);
    const imports = statelessTemplates().flatMap(
      (t) => JSON.stringify(t).match(/"Fn::ImportValue":"[^"]+"/g) ?? [],
    );
    expect(imports.length).toBeGreaterThan(0);
    for (const imported of imports) expect(exports).toContain(imported.split(":").pop()?.replaceAll('"', ""));
    // No automatic cross-stack reference (CDK's own exports are the ones that lock a stack on a removed use).
    expect(JSON.stringify(statelessTemplates())).not.toContain("ExportsOutput");
    expect(built.stateless.dependencies).toContain(built.stateful);
    expect(built.stateful.dependencies).toHaveLength(0);
  });

  it("outputs: the stateless stack's ApiUrl; the stateful stack's UserPoolId, UserPoolClientId and AlarmTopicArn", () => {
    expect(Object.keys(stateless.toJSON().Outputs)).toEqual(["ApiUrl"]);
    const outputs = stateful.toJSON().Outputs;
    expect(outputs.UserPoolId.Value).toEqual({ Ref: logicalIdOf("AWS::Cognito::UserPool", "Users") });
    expect(outputs.UserPoolClientId.Value).toEqual({
      Ref: logicalIdOf("AWS::Cognito::UserPoolClient", "App"),
    });
    expect(outputs.AlarmTopicArn.Value).toEqual({ Ref: logicalIdOf("AWS::SNS::Topic", "Alarms") });
    // Every alarm of either stack goes to that topic.
    for (const alarm of resources("AWS::CloudWatch::Alarm"))
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalIdOf("AWS::SNS::Topic", "Alarms") }]);
  });
});

describe("network", () => {
  it("in the VPC, every AWS service a route or job's permissions reach has an endpoint (no internet route)", () => {
    const needed = new Set([...routeList, ...jobList].flatMap((fn) => fn.permissions.flatMap(servicesOf)));
    expect(needed).toContain("lambda");
    const endpoints = resources("AWS::EC2::VPCEndpoint").map((endpoint) =>
      JSON.stringify(endpoint.Properties.ServiceName),
    );
    for (const service of [...needed, "logs", "xray"])
      expect(
        endpoints.some((name) => name.includes(`.${service}`)),
        service,
      ).toBe(true);
    expect(resources("AWS::EC2::NatGateway")).toHaveLength(0);
    expect(resources("AWS::EC2::InternetGateway")).toHaveLength(0);
  });
});

describe("CDK app under cdk-nag (HIPAA + AWS Solutions)", () => {
  it("synthesizes with every finding fixed or acknowledged with a specific reason", () => {
    const acks = acknowledgments(readSettings((key) => context[key as keyof typeof context]));
    expect(acks.length).toBeLessThanOrEqual(8);
    for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(80);
  });

  it("fails synthesis when a change introduces a new finding", () => {
    const gate = buildApp(new App({ context: { ...context, stage: "gate", "aws:cdk:bundling-stacks": [] } }));
    new Bucket(gate.stateful, "CarelessBucket");
    expect(() => Template.fromStack(gate.stateful)).toThrow(/S3|Bucket/);
  });

  it("a useVpc=false stage acknowledges only the VPC rule in addition", () => {
    const settings = readSettings((key) => ({ ...context, useVpc: false })[key as keyof typeof context]);
    expect(acknowledgments(settings).flatMap((a) => (Array.isArray(a.ids) ? a.ids : []))).toContain(
      "HIPAA.Security-LambdaInsideVPC",
    );
    const novpc = buildApp(
      new App({ context: { ...context, useVpc: false, stage: "novpc", "aws:cdk:bundling-stacks": [] } }),
    );
    expect(() => Template.fromStack(novpc.stateless)).not.toThrow();
  });
});

describe("data at rest", () => {
  it("tables: customer-managed key, PITR, deletion protection, in the backup plan", () => {
    const tables = resources("AWS::DynamoDB::GlobalTable");
    expect(tables).toHaveLength(Object.keys(TABLES).length);
    for (const table of tables) {
      expect(table.Properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: "KMS" });
      expect(table.Properties.Replicas[0].PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(
        true,
      );
      expect(table.Properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
    }
    const selection = resources("AWS::Backup::BackupSelection")[0];
    expect(selection?.Properties.BackupSelection.Resources).toHaveLength(Object.keys(TABLES).length);
  });

  it("buckets: SSE-KMS, versioned, public access blocked, TLS-only, access-logged; checkpoints and CloudTrail under Object Lock", () => {
    const buckets = resources("AWS::S3::Bucket").filter((b) => b.Properties.LoggingConfiguration);
    expect(buckets).toHaveLength(3); // transcripts, checkpoints, CloudTrail
    for (const bucket of buckets) {
      expect(
        bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm,
      ).toBe("aws:kms");
      expect(bucket.Properties.VersioningConfiguration.Status).toBe("Enabled");
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    const locked = buckets.filter((b) => b.Properties.ObjectLockEnabled);
    expect(locked).toHaveLength(2);
    for (const bucket of locked) {
      expect(bucket.Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({
        Mode: "COMPLIANCE",
        Days: 2555,
      });
    }
    for (const policy of resources("AWS::S3::BucketPolicy")) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it("symmetric KMS keys rotate; checkpoints are signed with an ECC P-256 signing key", () => {
    const keys = resources("AWS::KMS::Key");
    const signing = keys.filter((key) => key.Properties.KeySpec === "ECC_NIST_P256");
    expect(signing.map((key) => key.Properties.KeyUsage)).toEqual(["SIGN_VERIFY"]);
    for (const key of keys.filter((k) => !k.Properties.KeySpec))
      expect(key.Properties.EnableKeyRotation).toBe(true);
  });
});

describe("identity", () => {
  it("user pool: MFA required (TOTP), 12+ character policy, threat protection, immutable orgId, role groups", () => {
    const pool = resources("AWS::Cognito::UserPool")[0]?.Properties;
    expect(pool.MfaConfiguration).toBe("ON");
    expect(pool.EnabledMfas).toEqual(["SOFTWARE_TOKEN_MFA"]);
    expect(pool.Policies.PasswordPolicy).toMatchObject({
      MinimumLength: 12,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
    expect(pool.UserPoolAddOns.AdvancedSecurityMode).toBe("ENFORCED");
    expect(pool.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(pool.Schema).toContainEqual(expect.objectContaining({ Name: "orgId", Mutable: false }));
    const groups = resources("AWS::Cognito::UserPoolGroup")
      .map((g) => g.Properties.GroupName)
      .sort();
    expect(groups).toEqual(["admin", "coach", "coach_lead", "compliance_officer"]);
  });

  it("Cognito follows the directory: an identity sync job every 5 minutes, alone; invitations processed by a started job", () => {
    const rule = resources("AWS::Events::Rule").find(
      (candidate) => candidate.Properties.Description === jobs.identitySync.summary,
    );
    expect(rule?.Properties.ScheduleExpression).toBe("rate(5 minutes)");
    const functions = template.findResources("AWS::Lambda::Function");
    const sync = functions[rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0]] as { Properties: any };
    expect(sync.Properties.ReservedConcurrentExecutions).toBe(1);
    const invite = Object.values(functions).find(
      (fn: any) => fn.Properties.FunctionName === "coachvault-test-processInvite",
    ) as { Properties: any };
    expect(invite).toBeDefined();
    // Only the invitation route may start it, and the identity sync (for an invitation whose job never ran).
    const starters = policies().filter(
      (doc) => doc.includes('"lambda:InvokeFunction"') && doc.includes("processInvite"),
    );
    expect(starters).toHaveLength(2);
  });

  it("least privilege on the user pool: only the invitation job creates accounts; changing a person only syncs them", () => {
    const owners = [...routeList.map((route) => route.id), ...jobList.map((job) => job.id)];
    const cognitoActions = Object.entries(template.findResources("AWS::IAM::ManagedPolicy"))
      .map(([id, policy]) => {
        const owner = owners.find((name) => id.includes(`${name}Policy`));
        const actions = ((policy as { Properties: any }).Properties.PolicyDocument.Statement as any[])
          .flatMap((statement) => [statement.Action].flat() as string[])
          .filter((action) => action.startsWith("cognito-idp:"))
          .sort();
        return [owner, actions] as const;
      })
      .filter(([, actions]) => actions.length > 0);
    const sync = [
      "cognito-idp:AdminAddUserToGroup",
      "cognito-idp:AdminDisableUser",
      "cognito-idp:AdminEnableUser",
      "cognito-idp:AdminListGroupsForUser",
      "cognito-idp:AdminRemoveUserFromGroup",
    ];
    expect(Object.fromEntries(cognitoActions)).toEqual({
      processInvite: [...sync, "cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser"].sort(),
      identitySync: sync,
      updateUser: sync,
      approveChange: sync,
    });
  });

  it("app client: users cannot change their own email (or org) with their access token", () => {
    const clients = resources("AWS::Cognito::UserPoolClient");
    expect(clients).toHaveLength(1);
    const client = clients[0]?.Properties;
    // An explicit, non-empty list: without one, Cognito lets users write every standard attribute.
    expect(client.WriteAttributes).toEqual(["locale", "zoneinfo"]);
    expect(client.ReadAttributes).toEqual(expect.arrayContaining(["email", "custom:orgId"]));
  });
});

describe("API", () => {
  it("one nodejs22.x arm64 function per manifest route, with reserved concurrency and an encrypted log group", () => {
    const functions = resources("AWS::Lambda::Function").filter((f) => f.Properties.Runtime === "nodejs22.x");
    expect(functions).toHaveLength(routeList.length + jobList.length);
    for (const fn of functions) {
      expect(fn.Properties.Architectures).toEqual(["arm64"]);
      expect(fn.Properties.ReservedConcurrentExecutions).toBeGreaterThan(0);
      expect(fn.Properties.TracingConfig.Mode).toBe("Active");
      expect(fn.Properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    }
    for (const group of resources("AWS::Logs::LogGroup")) {
      expect(group.Properties.KmsKeyId).toBeDefined();
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });

  it("every route but the public ones uses the Cognito authorizer", () => {
    const methods = resources("AWS::ApiGateway::Method").filter((m) => m.Properties.HttpMethod !== "OPTIONS");
    expect(methods).toHaveLength(routeList.length);
    const open = methods.filter((m) => m.Properties.AuthorizationType === "NONE");
    expect(open).toHaveLength(routeList.filter((r) => r.auth === "none").length);
    expect(methods.filter((m) => m.Properties.AuthorizationType === "COGNITO_USER_POOLS")).toHaveLength(
      routeList.filter((r) => r.auth === "cognito").length,
    );
  });

  it("stage: X-Ray, execution logs without bodies, access logs; TLS policy; WAF with managed and rate rules", () => {
    const stage = resources("AWS::ApiGateway::Stage")[0]?.Properties;
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings[0]).toMatchObject({ LoggingLevel: "INFO", DataTraceEnabled: false });
    expect(stage.AccessLogSetting.DestinationArn).toBeDefined();
    template.hasResourceProperties("AWS::ApiGateway::RestApi", {
      SecurityPolicy: Match.stringLikeRegexp("TLS13"),
    });
    const acl = resources("AWS::WAFv2::WebACL")[0]?.Properties;
    const names = acl.Rules.map((r: { Name: string }) => r.Name);
    expect(names).toEqual(expect.arrayContaining(["AWSManagedRulesCommonRuleSet", "RateLimitPerIp"]));
    template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 1);
    template.resourceCountIs("AWS::WAFv2::LoggingConfiguration", 1);
  });

  it("every security event a function logs (break-glass, integrity failure) raises an alarm", () => {
    const filters = resources("AWS::Logs::MetricFilter").filter(
      (filter) => filter.Properties.MetricTransformations[0].MetricNamespace === "CoachVault",
    );
    expect(filters).toHaveLength(routeList.length + jobList.length);
    for (const filter of filters) expect(filter.Properties.FilterPattern).toContain("$.securityEvent");
    monitoring.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "SecurityEvents",
      Threshold: 1,
    });
  });

  it("gateway-made errors carry the security headers too", () => {
    for (const response of resources("AWS::ApiGateway::GatewayResponse")) {
      expect(response.Properties.ResponseParameters["gatewayresponse.header.Cache-Control"]).toBe(
        "'no-store'",
      );
      expect(response.Properties.ResponseParameters["gatewayresponse.header.X-Frame-Options"]).toBe("'DENY'");
    }
  });
});

describe("audit checkpoints", () => {
  it("a job signs checkpoints every 5 minutes, alone: the only function that may Sign or write checkpoints", () => {
    const rule = resources("AWS::Events::Rule").find(
      (candidate) => candidate.Properties.Description === jobs.auditCheckpoint.summary,
    );
    expect(rule?.Properties.ScheduleExpression).toBe("rate(5 minutes)");
    const targetId = rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0];
    const job = template.findResources("AWS::Lambda::Function")[targetId] as { Properties: any };
    expect(job.Properties.Handler).toBe("index.handler");
    expect(job.Properties.ReservedConcurrentExecutions).toBe(1);
    const signing = policies().filter((doc) => doc.includes('"kms:Sign"'));
    expect(signing).toHaveLength(1);
    expect(signing[0]).toContain("s3:PutObjectRetention");
    const writers = policies().filter(
      (doc) => doc.includes('"s3:PutObject"') && doc.includes("checkpointsBucket"),
    );
    expect(writers).toHaveLength(1);
  });
});

describe("daily verification from genesis", () => {
  it("a schedule starts it once a day; the function may start verification jobs and nothing of the checkpoints' keys or bucket", () => {
    const rule = resources("AWS::Events::Rule").find(
      (candidate) => candidate.Properties.Description === jobs.verifyAuditDaily.summary,
    );
    expect(rule?.Properties.ScheduleExpression).toBe("rate(1 day)");
    const targetId = rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0];
    const fn = template.findResources("AWS::Lambda::Function")[targetId] as { Properties: any };
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(jobs.verifyAuditDaily.permissions).toContain("jobs:start:verifyAudit");
    expect(jobs.verifyAuditDaily.permissions).not.toContain("kms:sign-checkpoints");
  });
});

describe("audit checkpoint signing keys", () => {
  const retired = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

  it("retired signing keys (stage setting retiredSigningKeyArns) reach the verifier's environment and its GetPublicKey, and nothing else", () => {
    const rekeyed = synthesized(
      buildApp(
        new App({
          context: {
            ...context,
            stage: "rekeyed",
            retiredSigningKeyArns: [retired],
            "aws:cdk:bundling-stacks": [],
          },
        }),
      ),
    );
    const functions = rekeyed.resources("AWS::Lambda::Function");
    const verifier = functions.find((fn) =>
      JSON.stringify(fn.Properties.FunctionName ?? "").includes("verifyAudit"),
    );
    expect(verifier?.Properties.Environment.Variables.KMS_AUDIT_RETIRED_SIGNING_KEY_IDS).toBe(retired);
    const statements = rekeyed
      .resources("AWS::IAM::ManagedPolicy")
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as any[]);
    const onRetired = statements.filter((statement) => JSON.stringify(statement.Resource).includes(retired));
    expect(onRetired.length).toBeGreaterThan(0);
    for (const statement of onRetired) expect(statement.Action).toBe("kms:GetPublicKey");
  });

  it("without the setting, no function is told of a retired key", () => {
    for (const fn of resources("AWS::Lambda::Function"))
      expect(fn.Properties.Environment?.Variables?.KMS_AUDIT_RETIRED_SIGNING_KEY_IDS).toBeUndefined();
  });

  it("a retired key that is not a KMS key ARN is refused at synthesis", () => {
    expect(() =>
      readSettings((key) => ({ ...context, retiredSigningKeyArns: "alias/old" })[key as never]),
    ).toThrow(/retiredSigningKeyArns/);
  });
});

const logicalIdOf = (type: string, fragment: string) =>
  Object.keys(template.findResources(type)).find((id) => id.includes(fragment)) as string;
const stream = (doc: string) => doc.includes('"StreamArn"');

describe("audit trail: append-only beyond our code", () => {
  it("the audit table's resource policy denies every principal each write IAM can forbid", () => {
    const audit = template.findResources("AWS::DynamoDB::GlobalTable")[
      logicalIdOf("AWS::DynamoDB::GlobalTable", "audit")
    ] as { Properties: any };
    const statements = audit.Properties.Replicas[0].ResourcePolicy.PolicyDocument.Statement as any[];
    for (const statement of statements) {
      expect(statement.Effect).toBe("Deny");
      expect(statement.Principal).toEqual({ AWS: "*" });
    }
    const denied = statements
      .filter((statement) => !statement.Condition)
      .flatMap((statement) => statement.Action);
    expect(denied).toEqual(
      expect.arrayContaining([
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:DeleteTable",
      ]),
    );
    expect(denied).not.toContain("dynamodb:PutItem");
    const puts = statements.filter((statement) => statement.Action === "dynamodb:PutItem");
    expect(puts.map((statement) => statement.Condition)).toEqual([
      { "ForAnyValue:StringNotLike": { "dynamodb:LeadingKeys": [CHAIN_ID_PATTERN] } },
      { "ForAnyValue:StringNotEquals": { "dynamodb:Attributes": [...AUDIT_ITEM_ATTRIBUTES] } },
    ]);
    // No other table has one (the witness table is written by the witness alone, through IAM).
    const withPolicy = resources("AWS::DynamoDB::GlobalTable").filter(
      (t) => t.Properties.Replicas[0].ResourcePolicy,
    );
    expect(withPolicy).toHaveLength(1);
  });

  it("loosening or removing a DynamoDB resource policy, or blinding the witness, raises a CloudTrail alarm", () => {
    expect(TRAIL_ALARMS.DynamoDbResourcePolicyChanges).toMatch(/PutResourcePolicy.*DeleteResourcePolicy/);
    expect(TRAIL_ALARMS.AuditWitnessDisabled).toMatch(/streamEnabled IS FALSE.*DeleteEventSourceMapping/);
    const alarmed = resources("AWS::CloudWatch::Alarm").map((alarm) => alarm.Properties.MetricName);
    expect(alarmed).toEqual(
      expect.arrayContaining([
        "DynamoDbResourcePolicyChanges",
        "AuditWitnessDisabled",
        "AuditFunctionsChanged",
      ]),
    );
  });

  it("any change to the audit table or to an event source mapping, and any code, configuration or concurrency change of a function guarding the trail, alarms", () => {
    const patterns = Object.fromEntries(
      resources("AWS::Logs::MetricFilter")
        .filter(
          (filter) => filter.Properties.MetricTransformations[0].MetricNamespace === "CoachVault/CloudTrail",
        )
        .map((filter) => [
          filter.Properties.MetricTransformations[0].MetricName,
          filter.Properties.FilterPattern,
        ]),
    ) as Record<string, string>;
    const blinded = patterns.AuditWitnessDisabled as string;
    // Any UpdateTable of this stage's audit table (by name or ARN), whatever it changes.
    expect(blinded).toContain("($.eventName = UpdateTable)");
    expect(blinded).toContain("($.requestParameters.tableName = %coachvault-test-audit$%)");
    // Any update of an event source mapping, not only one that disables it.
    expect(blinded).toContain("%^DeleteEventSourceMapping|^UpdateEventSourceMapping%)) }");
    expect(blinded).not.toContain("enabled IS FALSE");
    const changed = patterns.AuditFunctionsChanged as string;
    for (const event of ["UpdateFunctionCode", "UpdateFunctionConfiguration", "PutFunctionConcurrency"])
      expect(changed).toContain(`^${event}`);
    for (const id of ["auditWitness", "auditCheckpoint", "verifyAudit"]) {
      expect(AUDIT_GUARDS).toContain(id);
      expect(changed).toContain(`coachvault-test-${id}`);
      expect(Object.keys(jobs)).toContain(id);
    }
    // The function name is matched whole, by name or ARN, with or without a qualifier (the operators used
    // mean the same in JavaScript).
    const functionName = new RegExp(/functionName = %([^%]*)%/.exec(changed)?.[1] as string);
    const arn = "arn:aws:lambda:us-east-1:111122223333:function:";
    for (const name of [
      "coachvault-test-verifyAudit",
      `${arn}coachvault-test-auditWitness`,
      `${arn}coachvault-test-auditCheckpoint:7`,
    ])
      expect(functionName.test(name), name).toBe(true);
    for (const name of [
      "coachvault-test-verifyAuditDaily",
      `${arn}coachvault-test2-verifyAudit`,
      "xcoachvault-test-auditWitness",
    ])
      expect(functionName.test(name), name).toBe(false);
    // CloudWatch Logs takes filter patterns of at most 1,024 characters, at most two regular expressions per
    // pattern and five patterns with one per log group.
    for (const pattern of Object.values(patterns)) expect(pattern.length).toBeLessThanOrEqual(1024);
    const regexes = (pattern: string) => (pattern.match(/%[^%]*%/g) ?? []).length;
    for (const pattern of Object.values(patterns)) expect(regexes(pattern)).toBeLessThanOrEqual(2);
    expect(Object.values(patterns).filter((pattern) => regexes(pattern) > 0).length).toBeLessThanOrEqual(5);
  });

  it("the witness falling a minute behind its stream alarms (IteratorAge)", () => {
    const witnessName = resources("AWS::CloudWatch::Alarm").find(
      (alarm) => alarm.Properties.MetricName === "IteratorAge",
    )?.Properties.Dimensions?.[0]?.Value;
    const alarm = resources("AWS::CloudWatch::Alarm").find((a) => a.Properties.MetricName === "IteratorAge");
    expect(alarm?.Properties).toMatchObject({
      Namespace: "AWS/Lambda",
      Statistic: "Maximum",
      Period: 60,
      Threshold: 60_000,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    expect(alarm?.Properties.AlarmActions).toHaveLength(1);
    const witness = template.findResources("AWS::Lambda::Function")[(witnessName as { Ref: string }).Ref] as {
      Properties: any;
    };
    expect(witness.Properties.FunctionName).toBe("coachvault-test-auditWitness");
  });

  it("the audit table streams new and old images to the witness: ordered batches, partial failures, bisect, retries, an encrypted failure queue", () => {
    const audit = template.findResources("AWS::DynamoDB::GlobalTable")[
      logicalIdOf("AWS::DynamoDB::GlobalTable", "audit")
    ] as { Properties: any };
    expect(audit.Properties.StreamSpecification).toEqual({ StreamViewType: "NEW_AND_OLD_IMAGES" });
    const [mapping, ...others] = resources("AWS::Lambda::EventSourceMapping");
    expect(others).toHaveLength(0);
    expect(mapping?.Properties).toMatchObject({
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 10,
      EventSourceArn: { "Fn::GetAtt": [logicalIdOf("AWS::DynamoDB::GlobalTable", "audit"), "StreamArn"] },
    });
    const queueId = mapping?.Properties.DestinationConfig.OnFailure.Destination["Fn::GetAtt"][0];
    const queue = template.findResources("AWS::SQS::Queue")[queueId] as { Properties: any };
    expect(queue.Properties.KmsMasterKeyId).toBeDefined();
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: queueId }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      }),
    });
    const queueAlarms = resources("AWS::CloudWatch::Alarm")
      .filter((alarm) => alarm.Properties.MetricName === "ApproximateNumberOfMessagesVisible")
      .map((alarm) => alarm.Properties.Dimensions[0].Value);
    expect(queueAlarms).toContainEqual({ "Fn::GetAtt": [queueId, "QueueName"] });
  });

  it("only the witness reads the stream (on its ARN only) and writes the witness table; the checkpoint job reads it, appenders get one item of it", () => {
    const streamReaders = policies().filter(stream);
    expect(streamReaders).toHaveLength(1);
    const reader = JSON.parse(streamReaders[0] as string).Statement.find((statement: any) =>
      JSON.stringify(statement.Resource).includes("StreamArn"),
    );
    expect([reader.Action].flat().sort()).toEqual([
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]);
    expect(reader.Resource).toEqual({
      "Fn::GetAtt": [logicalIdOf("AWS::DynamoDB::GlobalTable", "audit"), "StreamArn"],
    });
    const witnessTable = logicalIdOf("AWS::DynamoDB::GlobalTable", "witness");
    const onWitness = (statement: any) => JSON.stringify(statement.Resource).includes(witnessTable);
    const witnessStatements = resources("AWS::IAM::ManagedPolicy").flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as any[])
        .filter(onWitness)
        .map((statement) => ({ policy: JSON.stringify(policy.Properties.PolicyDocument), statement })),
    );
    const writers = witnessStatements.filter(({ statement }) =>
      [statement.Action].flat().includes("dynamodb:UpdateItem"),
    );
    expect(writers.map(({ policy }) => policy)).toEqual(streamReaders);
    const batchReaders = witnessStatements.filter(({ statement }) =>
      [statement.Action].flat().includes("dynamodb:BatchGetItem"),
    );
    expect(batchReaders).toHaveLength(2); // the witness and the checkpoint job
    // Every other function that touches it is an appender: GetItem of a chain's record, nothing else.
    const appenders =
      routeList.filter((route) => route.permissions.includes("audit:append")).length +
      jobList.filter((job) => (job.permissions as readonly string[]).includes("audit:append")).length;
    const others = witnessStatements.filter(
      ({ statement }) => !batchReaders.some((r) => r.statement === statement),
    );
    expect(others).toHaveLength(appenders);
    for (const { statement } of others) expect(statement.Action).toBe("dynamodb:GetItem");
  });

  it("every started job sends what Lambda gives up on (three failed runs, or a start that waited too long) to its own encrypted, alarmed queue", () => {
    const started = jobList.filter((job) => "started" in job.trigger);
    expect(started.map((job) => job.id)).toContain("verifyAudit");
    const configs = resources("AWS::Lambda::EventInvokeConfig");
    expect(configs).toHaveLength(started.length);
    const alarmedQueues = resources("AWS::CloudWatch::Alarm")
      .filter((alarm) => alarm.Properties.MetricName === "ApproximateNumberOfMessagesVisible")
      .map((alarm) => JSON.stringify(alarm.Properties.Dimensions[0].Value));
    for (const config of configs) {
      expect(config.Properties).toMatchObject({
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
      });
      const queueId = config.Properties.DestinationConfig.OnFailure.Destination["Fn::GetAtt"][0];
      const queue = template.findResources("AWS::SQS::Queue")[queueId] as { Properties: any };
      expect(queue.Properties.KmsMasterKeyId).toBeDefined();
      expect(alarmedQueues).toContain(JSON.stringify({ "Fn::GetAtt": [queueId, "QueueName"] }));
      // The role is immutable: the send is granted in the job's own policy, on that queue only.
      const senders = policies().filter((doc) => doc.includes('"sqs:SendMessage"') && doc.includes(queueId));
      expect(senders).toHaveLength(1);
    }
  });

  it("the verification job may list and read checkpoint versions, and starts only itself", () => {
    const versions = policies().filter((doc) => doc.includes("s3:ListBucketVersions"));
    expect(versions.length).toBeGreaterThanOrEqual(2); // the start route (does checkpoint n exist?) and the job
    for (const doc of versions) expect(doc).toContain("s3:GetObjectVersion");
  });
});

describe("CloudTrail", () => {
  it("records management events and PHI data events, validated, KMS-encrypted, into Object Lock and CloudWatch Logs", () => {
    const [trail] = resources("AWS::CloudTrail::Trail");
    expect(trail?.Properties).toMatchObject({
      EnableLogFileValidation: true,
      IsMultiRegionTrail: true,
      IsLogging: true,
    });
    expect(trail?.Properties.KMSKeyId).toBeDefined();
    expect(trail?.Properties.CloudWatchLogsLogGroupArn).toBeDefined();
    const selectors = JSON.stringify(trail?.Properties.AdvancedEventSelectors);
    for (const kind of ["Management", "AWS::S3::Object", "AWS::DynamoDB::Table"])
      expect(selectors).toContain(kind);
    for (const table of ["recordsTable", "keysTable", "auditTable"]) expect(selectors).toContain(table);
    for (const bucket of ["transcriptsBucket", "checkpointsBucket"]) expect(selectors).toContain(bucket);
    const bucketId = trail?.Properties.S3BucketName.Ref;
    const bucket = template.findResources("AWS::S3::Bucket")[bucketId] as { Properties: any };
    expect(bucket.Properties.ObjectLockConfiguration.Rule.DefaultRetention).toMatchObject({
      Mode: "COMPLIANCE",
    });
    expect(
      bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .SSEAlgorithm,
    ).toBe("aws:kms");
  });

  it("alarms on unauthorized API calls, KMS key disable or deletion, IAM policy changes and CloudTrail changes", () => {
    const filters = resources("AWS::Logs::MetricFilter").filter(
      (filter) => filter.Properties.MetricTransformations[0].MetricNamespace === "CoachVault/CloudTrail",
    );
    expect(filters.map((f) => f.Properties.MetricTransformations[0].MetricName).sort()).toEqual(
      Object.keys(TRAIL_ALARMS).sort(),
    );
    const alarmed = resources("AWS::CloudWatch::Alarm").map((alarm) => alarm.Properties.MetricName);
    expect(alarmed).toEqual(expect.arrayContaining(Object.keys(TRAIL_ALARMS)));
  });
});

describe("least privilege", () => {
  it("no function may update or delete an audit entry, scan a table, or use KMS beyond its manifest permissions", () => {
    // (the disclosure pointers an append writes to the records table are pinned to their own partitions)
    const pointerStatements = policies().filter((doc) => doc.includes("ORG#*#DISCLOSED#*"));
    expect(pointerStatements.length).toBeGreaterThan(0);
    const auditTable = Object.keys(template.findResources("AWS::DynamoDB::GlobalTable")).find((id) =>
      id.includes("audit"),
    );
    for (const policy of resources("AWS::IAM::ManagedPolicy")) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        const resource = JSON.stringify(statement.Resource);
        const onAudit = resource.includes(String(auditTable)) && !resource.includes("StreamArn");
        // Append (PutItem, conditional on a free sequence number) and read; never Update or Delete.
        if (onAudit)
          expect(["dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:Query"]).toEqual(
            expect.arrayContaining(actions),
          );
        expect(actions.join(",")).not.toMatch(/dynamodb:(Scan|BatchWriteItem|\*)|kms:\*/);
      }
    }
  });

  it("writes to the records table reach a disclosure pointer only as an append's PutItem, and a verification job's state only as that job's PutItem", () => {
    const recordsTable = logicalIdOf("AWS::DynamoDB::GlobalTable", "records");
    const writes = /^dynamodb:(PutItem|UpdateItem|DeleteItem|ConditionCheckItem)$/;
    const withPolicy = resources("AWS::IAM::ManagedPolicy").flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as any[]).map((statement) => ({ policy, statement })),
    );
    const onRecords = withPolicy.filter(
      ({ statement }) =>
        JSON.stringify(statement.Resource).includes(recordsTable) &&
        [statement.Action].flat().some((action: string) => writes.test(action)),
    );
    const into = (pattern: string) =>
      onRecords.filter(
        ({ statement }) =>
          JSON.stringify(statement.Condition?.["ForAllValues:StringLike"]) ===
          JSON.stringify({ "dynamodb:LeadingKeys": [pattern] }),
      );
    const appends = into(DISCLOSURE_PARTITION_PATTERN);
    const verifications = into(VERIFICATION_PARTITION_PATTERN);
    const others = onRecords.filter((entry) => !appends.includes(entry) && !verifications.includes(entry));
    expect(appends.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    for (const { statement } of [...appends, ...verifications])
      expect(statement.Action).toBe("dynamodb:PutItem");
    // Only the verification job's role writes jobs' state.
    expect(verifications).toHaveLength(1);
    const verifierRole = JSON.stringify(verifications[0]?.policy.Properties.Roles);
    expect(verifierRole).toContain("verifyAudit");
    expect(verifierRole).not.toContain("verifyAuditDaily");
    for (const { statement } of others)
      expect(statement.Condition).toEqual({
        "ForAllValues:StringNotLike": {
          "dynamodb:LeadingKeys": [DISCLOSURE_PARTITION_PATTERN, VERIFICATION_PARTITION_PATTERN],
        },
      });
    // The patterns match the partitions an append writes pointers to and a job keeps its state in.
    const matches = (pattern: string, key: string) =>
      new RegExp(`^${pattern.replaceAll("*", ".*")}$`).test(key);
    expect(matches(DISCLOSURE_PARTITION_PATTERN, disclosurePartition("acme", "client-1"))).toBe(true);
    expect(matches(VERIFICATION_PARTITION_PATTERN, verificationKey("acme", "job-1").pk)).toBe(true);
    for (const pattern of [DISCLOSURE_PARTITION_PATTERN, VERIFICATION_PARTITION_PATTERN]) {
      expect(matches(pattern, "ORG#acme")).toBe(false);
      expect(matches(pattern, verificationRequestKey("acme", "job-1").pk)).toBe(false);
    }
  });

  it("data-key use is conditioned on the {orgId, clientId} encryption context", () => {
    const kms = policies().filter(
      (doc) => doc.includes('kms:GenerateDataKey"') || doc.includes('"kms:Decrypt"'),
    );
    expect(kms.length).toBeGreaterThan(0);
    for (const doc of policies().filter((d) => /"Action":"kms:(GenerateDataKey|Decrypt)"/.test(d))) {
      expect(doc).toContain("kms:EncryptionContextKeys");
    }
  });

  it("public functions get no data access at all", () => {
    const health = resources("AWS::IAM::ManagedPolicy").find((p) => JSON.stringify(p).includes("healthLogs"));
    expect(JSON.stringify(health)).not.toMatch(/dynamodb|kms:/);
  });
});

describe("transcripts", () => {
  it("each route's function has the timeout and memory of its manifest entry, within API Gateway's 29 s", () => {
    const functions = built.stateless.api.functions;
    for (const route of routeList) {
      const fn = functions[route.id] as NodejsFunction;
      const id = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
      const properties = (template.findResources("AWS::Lambda::Function")[id] as { Properties: any })
        .Properties;
      expect([route.id, properties.Timeout, properties.MemorySize]).toEqual([
        route.id,
        routeLimits(route).timeoutSeconds,
        routeLimits(route).memoryMb,
      ]);
      expect(properties.Timeout).toBeLessThanOrEqual(API_GATEWAY_TIMEOUT_SECONDS);
    }
    expect(routeLimits(routes.uploadTranscript)).toEqual({ timeoutSeconds: 28, memoryMb: 1024 });
  });

  it("only the upload function may delete transcript objects, and no function may delete an object version", () => {
    const deleters = resources("AWS::IAM::ManagedPolicy").filter((p) =>
      JSON.stringify(p).includes('"s3:DeleteObject"'),
    );
    expect(deleters).toHaveLength(1);
    expect(JSON.stringify(deleters[0])).toContain("uploadTranscriptLogs");
    const statement = deleters[0]?.Properties.PolicyDocument.Statement.find(
      (s: { Action: unknown }) => s.Action === "s3:DeleteObject",
    );
    expect(JSON.stringify(statement.Resource)).toContain("transcriptsBucket");
    expect(JSON.stringify(statement.Resource)).not.toContain("checkpointsBucket");
    for (const doc of policies()) expect(doc).not.toMatch(/s3:DeleteObjectVersion|s3:\*|"s3:Delete\*"/);
  });

  it("the versioned transcripts bucket expires what deletes leave: noncurrent versions after 35 days, then the markers", () => {
    const [bucket] = Object.entries(template.findResources("AWS::S3::Bucket"))
      .filter(([id]) => id.includes("transcriptsBucket"))
      .map(([, resource]) => (resource as { Properties: any }).Properties);
    expect(bucket.VersioningConfiguration.Status).toBe("Enabled");
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Status: "Enabled",
        NoncurrentVersionExpiration: { NoncurrentDays: 35 },
        ExpiredObjectDeleteMarker: true,
      }),
    ]);
  });
});

describe("list cursors", () => {
  it("only list routes may use the cursor key: KMS only under {purpose: list-cursor}, one keys-table item", () => {
    const listRoutes = routeList
      .filter((route) => route.permissions.includes("cursors:seal"))
      .map((r) => r.id);
    expect(listRoutes.sort()).toEqual(["listAuditEntries", "listClients", "listDisclosures", "listInvites"]);
    const sealing = resources("AWS::IAM::ManagedPolicy").filter((p) =>
      JSON.stringify(p).includes("kms:EncryptionContext:purpose"),
    );
    expect(
      sealing.map((p) => listRoutes.find((id) => JSON.stringify(p).includes(`${id}Logs`))).sort(),
    ).toEqual(listRoutes.sort());
    for (const policy of sealing) {
      const statements = policy.Properties.PolicyDocument.Statement as { Action: unknown; Condition?: any }[];
      const kms = statements.find((s) => JSON.stringify(s.Condition ?? {}).includes("purpose"));
      expect(kms?.Action).toEqual(["kms:GenerateDataKey", "kms:Decrypt"]);
      expect(kms?.Condition).toEqual({
        StringEquals: { "kms:EncryptionContext:purpose": CURSOR_KEY_CONTEXT.purpose },
        "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["purpose"] },
      });
      const item = statements.find((s) => JSON.stringify(s.Condition ?? {}).includes(CURSOR_KEY_ITEM.pk));
      expect(item?.Action).toEqual(["dynamodb:GetItem", "dynamodb:PutItem"]);
      expect(JSON.stringify((item as { Resource?: unknown }).Resource)).toContain("keysTable");
      expect(item?.Condition).toEqual({
        "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [CURSOR_KEY_ITEM.pk] },
      });
    }
  });
});
