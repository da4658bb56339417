import { readFileSync } from "node:fs";
import { App, type CfnElement, NestedStack, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { Bucket } from "aws-cdk-lib/aws-s3";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  VERIFICATION_PARTITION_PATTERN,
  verificationKey,
  verificationRequestKey,
} from "../../functions/audit/verification";
import { jobList, jobs } from "../../functions/jobs";
import { routeList, routes } from "../../functions/routes";
import { changeKey, HELD_CHANGE_PARTITION_PATTERN } from "../../shared/access/two-person";
import {
  AUDIT_ITEM_ATTRIBUTES,
  CHAIN_ID_PATTERN,
  DISCLOSURE_PARTITION_PATTERN,
  disclosurePartition,
} from "../../shared/audit/chain";
import { TOKEN_KEYS_ITEM, TOKEN_KEYS_PARTITION_PATTERN } from "../../shared/auth/token-keys";
import { DEFAULT_MAX_BODY_BYTES } from "../../shared/config";
import { CURSOR_KEY_CONTEXT, CURSOR_KEY_ITEM } from "../../shared/crypto/cursor-key";
import { DIGEST_KEY_CONTEXT, DIGEST_KEY_ITEM } from "../../shared/crypto/digest-key";
import { GATEWAY_ERRORS } from "../../shared/http/errors";
import {
  API_GATEWAY_TIMEOUT_SECONDS,
  bodyLimitBytes,
  idempotencyKeyPrefix,
  routeLimits,
  takesIdempotencyKey,
} from "../../shared/http/route";
import {
  edgeResponseHeaders,
  preflightCorsHeaders,
  SECURITY_HEADERS,
} from "../../shared/http/security-headers";
import { orgRegistryItem, userKey } from "../../shared/people";
import { LIMIT_PARTITION_PATTERN, PRINCIPAL_LIMIT_PARTITION_PATTERN } from "../../shared/protection/buckets";
import { BUCKETS, TABLES } from "../resources";
import { buildApp } from "./app";
import { AUTH_EVENTS_LOG_GROUP_PREFIX } from "./auth";
import { KEYS_BACKUP_DAYS } from "./data";
import { WAF_BLOCKS_THRESHOLD } from "./monitoring";
import { acknowledgments } from "./nag";
import { SIGNAL_PARTITION_PATTERNS, servicesOf } from "./permissions";
import { readSettings } from "./settings";
import { AUDIT_GUARDS, trailAlarms } from "./trail";
import {
  API_RATE_LIMIT_PER_IP,
  freeTextRoutes,
  greaterThanPattern,
  MANAGED_RULE_GROUPS,
  MAX_REGEX_ALTERNATIVES,
  MAX_REGEX_LENGTH,
  ruleLabel,
  SIGN_IN_MANAGED_RULE_GROUPS,
  SIGN_IN_RATE_LIMIT_PER_IP,
  signInWebAclName,
  WAF_BODY_INSPECTION,
  WAF_CAPACITY_BUDGET,
  WAF_RATE_FLOOR,
  WAF_RATE_WINDOW_SECONDS,
  webAclName,
} from "./waf";

const TRAIL_ALARMS = trailAlarms("test", "coachvault-test-audit");

/** Destinations in another region (a stage that keeps its data must replicate its buckets). */
const REPLICATION = {
  kmsKeyArn: "arn:aws:kms:us-west-2:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
  buckets: {
    transcripts: "arn:aws:s3:::coachvault-test-replica-transcripts",
    checkpoints: "arn:aws:s3:::coachvault-test-replica-checkpoints",
    reports: "arn:aws:s3:::coachvault-test-replica-reports",
    accessLogs: "arn:aws:s3:::coachvault-test-replica-access-logs",
    cloudTrail: "arn:aws:s3:::coachvault-test-replica-cloudtrail",
  },
};
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
  replication: REPLICATION,
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
  const rootName = (stack: Stack): string =>
    stack.nestedStackParent ? rootName(stack.nestedStackParent) : stack.stackName;
  return {
    stacks,
    raw,
    /** The top-level stack (`CoachVault-<stage>-Stateful` or `-Stateless`) each logical id is deployed under. */
    rootOf: Object.fromEntries(
      all.flatMap((resourcesOf, index) =>
        Object.keys(resourcesOf).map((id) => [id, rootName(stacks[index] as Stack)]),
      ),
    ) as Record<string, string>,
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
/** The API's web ACL (the user pool has one of its own). */
const apiWebAclProperties = () =>
  resources("AWS::WAFv2::WebACL").find((acl) => acl.Properties.Name === webAclName("test"))?.Properties;
const policies = () =>
  resources("AWS::IAM::ManagedPolicy").map((p) => JSON.stringify(p.Properties.PolicyDocument));

/** The routes and jobs the next issues add: every template keeps room for about this many more. */
const COMING_FUNCTIONS = 20;

/** Cognito's user auth events group: the one log group Cognito requires without a KMS key (auth.ts). */
const isAuthEventsGroup = (group: { Properties: { LogGroupName?: unknown } }) =>
  JSON.stringify(group.Properties.LogGroupName ?? "").includes(AUTH_EVENTS_LOG_GROUP_PREFIX);

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
  it("a table's stream ARN is exported only where the table has a stream (the attribute exists only then)", () => {
    const outputs = Object.values(stateful.toJSON().Outputs ?? {}) as {
      Value: any;
      Export?: { Name: string };
    }[];
    const streamExports = outputs.filter((output) => output.Export?.Name.endsWith("-streamArn"));
    const tables = template.toJSON().Resources as Record<string, { Properties: any }>;
    expect(streamExports.length).toBe(Object.values(TABLES).filter((table) => "stream" in table).length);
    for (const output of streamExports) {
      const [tableId] = output.Value["Fn::GetAtt"] as [string, string];
      expect(tables[tableId]?.Properties.StreamSpecification, output.Export?.Name).toBeDefined();
    }
  });

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
    // 8, and the functions outside the VPC (the token-key refresh job: issue 10 item 3), and Cognito's
    // unencrypted auth events group.
    expect(acks.length).toBeLessThanOrEqual(10);
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
    const selected = resources("AWS::Backup::BackupSelection").flatMap((selection) =>
      (selection.Properties.BackupSelection.Resources as { "Fn::GetAtt": string[] }[]).map(
        (arn) => arn["Fn::GetAtt"][0],
      ),
    );
    for (const name of Object.keys(TABLES))
      expect(selected).toContain(logicalIdOf("AWS::DynamoDB::GlobalTable", `${name}Table`));
  });

  it("buckets: SSE-KMS, versioned, public access blocked, TLS-only, access-logged; checkpoints, reports and CloudTrail under Object Lock", () => {
    const buckets = resources("AWS::S3::Bucket").filter((b) => b.Properties.LoggingConfiguration);
    expect(buckets).toHaveLength(4); // transcripts, checkpoints, reports, CloudTrail
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
    // Checkpoints and CloudTrail keep the audit retention; reports their own 6 years (§164.316(b)(2)).
    expect(
      locked
        .map((bucket) => bucket.Properties.ObjectLockConfiguration.Rule.DefaultRetention)
        .sort((a: { Days: number }, b: { Days: number }) => a.Days - b.Days),
    ).toEqual([
      { Mode: "COMPLIANCE", Days: 2192 },
      { Mode: "COMPLIANCE", Days: 2555 },
      { Mode: "COMPLIANCE", Days: 2555 },
    ]);
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
      // The compliance report reads accounts, groups and the pool's configuration: never changes any.
      complianceReport: [
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminListGroupsForUser",
        "cognito-idp:DescribeUserPool",
        "cognito-idp:GetWebACLForResource",
      ],
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
    const outside = jobList
      .filter((job) => job.network === "internet")
      .map((job) => `coachvault-test-${job.id}`);
    for (const fn of functions) {
      expect(fn.Properties.Architectures).toEqual(["arm64"]);
      expect(fn.Properties.ReservedConcurrentExecutions).toBeGreaterThan(0);
      expect(fn.Properties.TracingConfig.Mode).toBe("Active");
      if (outside.includes(fn.Properties.FunctionName)) expect(fn.Properties.VpcConfig).toBeUndefined();
      else expect(fn.Properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
    }
    for (const group of resources("AWS::Logs::LogGroup").filter((g) => !isAuthEventsGroup(g))) {
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
    const acl = apiWebAclProperties();
    const names = acl.Rules.map((r: { Name: string }) => r.Name);
    expect(names).toEqual(expect.arrayContaining(["AWSManagedRulesCommonRuleSet", "RateLimitPerIp"]));
    // The API's and the user pool's.
    template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 2);
    template.resourceCountIs("AWS::WAFv2::LoggingConfiguration", 2);
  });

  it("every security event a function logs (break-glass, integrity failure) raises an alarm", () => {
    const filters = resources("AWS::Logs::MetricFilter").filter(
      (filter) => filter.Properties.MetricTransformations[0].MetricNamespace === "CoachVault/test",
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
    // The checkpoint job and the report job (the same key: `compliance reports` below).
    const signing = policies().filter((doc) => doc.includes('"kms:Sign"'));
    expect(signing).toHaveLength(2);
    for (const doc of signing) expect(doc).toContain("s3:PutObjectRetention");
    // Statements, not documents: the report job also writes objects (its own bucket) and reads checkpoints.
    const writers = resources("AWS::IAM::ManagedPolicy").filter((policy) =>
      (policy.Properties.PolicyDocument.Statement as any[]).some(
        (statement) =>
          [statement.Action].flat().includes("s3:PutObject") &&
          JSON.stringify(statement.Resource).includes("checkpointsBucket"),
      ),
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

/** The name CloudFormation gives a resource it names itself (`<stack>-<logical id>-<suffix>`, at most). */
const deployedName = (logicalId: string) => `CoachVault-test-${logicalId}-1A2B3C4D5E6F`;
/** A filter pattern as deployed: references to resources replaced by their CloudFormation-made names. */
const deployedPattern = (pattern: unknown): string => {
  if (typeof pattern === "string") return pattern;
  const [separator, parts] = (pattern as { "Fn::Join": [string, unknown[]] })["Fn::Join"];
  return parts
    .map((part) => (typeof part === "string" ? part : deployedName((part as { Ref: string }).Ref)))
    .join(separator);
};
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
          (filter) =>
            filter.Properties.MetricTransformations[0].MetricNamespace === "CoachVault/test/CloudTrail",
        )
        .map((filter) => [
          filter.Properties.MetricTransformations[0].MetricName,
          filter.Properties.FilterPattern,
        ]),
    ) as Record<string, unknown>;
    const blinded = deployedPattern(patterns.AuditWitnessDisabled);
    // Any UpdateTable of this stage's audit table (by name or ARN), whatever it changes: the table's name is
    // CloudFormation's, so the pattern carries it as a reference and matches the deployed name.
    const auditName = deployedName(logicalIdOf("AWS::DynamoDB::GlobalTable", "auditTable"));
    expect(blinded).toContain("($.eventName = UpdateTable)");
    expect(blinded).toContain(`($.requestParameters.tableName = %${auditName}$%)`);
    const tableName = new RegExp(/tableName = %([^%]*)%/.exec(blinded)?.[1] as string);
    expect(tableName.test(auditName)).toBe(true);
    expect(tableName.test(`arn:aws:dynamodb:us-east-1:111122223333:table/${auditName}`)).toBe(true);
    expect(tableName.test(deployedName(logicalIdOf("AWS::DynamoDB::GlobalTable", "recordsTable")))).toBe(
      false,
    );
    // Any update of an event source mapping, not only one that disables it.
    expect(blinded).toContain("%^DeleteEventSourceMapping|^UpdateEventSourceMapping%)) }");
    expect(blinded).not.toContain("enabled IS FALSE");
    const changed = deployedPattern(patterns.AuditFunctionsChanged);
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
    const deployed = Object.values(patterns).map(deployedPattern);
    for (const pattern of deployed) expect(pattern.length).toBeLessThanOrEqual(1024);
    const regexes = (pattern: string) => (pattern.match(/%[^%]*%/g) ?? []).length;
    for (const pattern of deployed) expect(regexes(pattern)).toBeLessThanOrEqual(2);
    expect(deployed.filter((pattern) => regexes(pattern) > 0).length).toBeLessThanOrEqual(5);
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
    // The witness's mapping (the detectors have their own, asserted in their describe block).
    const witnessId = logicalIdOf("AWS::Lambda::Function", "auditWitness");
    const [mapping, ...others] = resources("AWS::Lambda::EventSourceMapping").filter(
      (candidate) => candidate.Properties.FunctionName.Ref === witnessId,
    );
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
    // Two readers of the audit stream: the witness, and the detectors (which never write the witness table).
    const streamReaders = policies().filter(stream);
    expect(streamReaders).toHaveLength(3); // the witness, detectAudit (audit stream), detectSignals (security stream)
    const witnessReader = streamReaders.filter((doc) =>
      doc.includes(logicalIdOf("AWS::DynamoDB::GlobalTable", "witness")),
    );
    expect(witnessReader).toHaveLength(1);
    const reader = JSON.parse(witnessReader[0] as string).Statement.find((statement: any) =>
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
    expect(writers.map(({ policy }) => policy)).toEqual(witnessReader);
    const batchReaders = witnessStatements.filter(({ statement }) =>
      [statement.Action].flat().includes("dynamodb:BatchGetItem"),
    );
    expect(batchReaders).toHaveLength(3); // the witness, the checkpoint job and the compliance report
    // Every other function that touches it is an appender: GetItem of a chain's record, nothing else.
    const appenders =
      routeList.filter((route) => route.permissions.includes("audit:append")).length +
      jobList.filter((job) => (job.permissions as readonly string[]).includes("audit:append")).length;
    // (and the compliance report reads the table's configuration: DescribeTable, never an item)
    const describesOnly = (statement: any) =>
      [statement.Action].flat().every((action: string) => action.startsWith("dynamodb:Describe"));
    const others = witnessStatements.filter(
      ({ statement }) => !batchReaders.some((r) => r.statement === statement) && !describesOnly(statement),
    );
    expect(others).toHaveLength(appenders);
    for (const { statement } of others) expect(statement.Action).toBe("dynamodb:GetItem");
  });

  it("every started job sends what Lambda gives up on (three failed runs, or a start that waited too long) to its own encrypted, alarmed queue", () => {
    // Started jobs, and the log subscribers CloudWatch Logs invokes the same (asynchronous) way.
    const started = jobList.filter((job) => "started" in job.trigger || "logs" in job.trigger);
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
      (filter) => filter.Properties.MetricTransformations[0].MetricNamespace === "CoachVault/test/CloudTrail",
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
        // Append (PutItem, conditional on a free sequence number) and read, or read the table's configuration
        // (the compliance report); never Update or Delete.
        if (onAudit)
          expect([
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
          ]).toEqual(expect.arrayContaining(actions));
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
    const tokenKeys = onRecords.filter(
      ({ statement }) =>
        JSON.stringify(statement.Condition) ===
        JSON.stringify({
          "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [TOKEN_KEYS_PARTITION_PATTERN] },
        }),
    );
    const others = onRecords.filter(
      (entry) => !appends.includes(entry) && !verifications.includes(entry) && !tokenKeys.includes(entry),
    );
    expect(appends.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    for (const { statement } of [...appends, ...verifications, ...tokenKeys])
      expect(statement.Action).toBe("dynamodb:PutItem");
    // Only the refresh job's role writes the pool's token keys.
    expect(tokenKeys).toHaveLength(1);
    expect(JSON.stringify(tokenKeys[0]?.policy.Properties.Roles)).toContain("refreshTokenKeys");
    // Only the verification job's role writes jobs' state.
    expect(verifications).toHaveLength(1);
    const verifierRole = JSON.stringify(verifications[0]?.policy.Properties.Roles);
    expect(verifierRole).toContain("verifyAudit");
    expect(verifierRole).not.toContain("verifyAuditDaily");
    for (const { statement } of others)
      expect(statement.Condition).toEqual({
        "ForAllValues:StringNotLike": {
          "dynamodb:LeadingKeys": [
            DISCLOSURE_PARTITION_PATTERN,
            VERIFICATION_PARTITION_PATTERN,
            TOKEN_KEYS_PARTITION_PATTERN,
          ],
        },
      });
    // The patterns match the partitions an append writes pointers to and a job keeps its state in.
    const matches = (pattern: string, key: string) =>
      new RegExp(`^${pattern.replaceAll("*", ".*")}$`).test(key);
    expect(matches(DISCLOSURE_PARTITION_PATTERN, disclosurePartition("acme", "client-1"))).toBe(true);
    expect(matches(VERIFICATION_PARTITION_PATTERN, verificationKey("acme", "job-1").pk)).toBe(true);
    expect(matches(TOKEN_KEYS_PARTITION_PATTERN, TOKEN_KEYS_ITEM.pk)).toBe(true);
    for (const pattern of [
      DISCLOSURE_PARTITION_PATTERN,
      VERIFICATION_PARTITION_PATTERN,
      TOKEN_KEYS_PARTITION_PATTERN,
    ]) {
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
    expect(listRoutes.sort()).toEqual([
      "listAuditEntries",
      "listClients",
      "listDisclosures",
      "listInvites",
      "listReports",
      "listSecurityEvents",
    ]);
    const sealing = resources("AWS::IAM::ManagedPolicy").filter((p) =>
      JSON.stringify(p).includes(CURSOR_KEY_CONTEXT.purpose),
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

describe("edge: WAF, gateway responses, preflight (issue 10 items 1, 2)", () => {
  /** A request as WAF sees it (paths with the stage prefix of the execute-api URL, or without). */
  type WafRequest = {
    method: string;
    path: string;
    bodyBytes: number;
    contentLength?: number;
    labels?: string[];
  };
  const textOf = (field: any, request: WafRequest) => {
    if (field.Method) return request.method;
    if (field.UriPath) return request.path;
    if (field.SingleHeader?.Name === "content-length") return String(request.contentLength ?? "");
    throw new Error(`field not modelled: ${JSON.stringify(field)}`);
  };
  /** The statement kinds the web ACL's own rules use, evaluated as WAF does (body seen up to the inspection size). */
  const matches = (statement: any, request: WafRequest): boolean => {
    if (statement.AndStatement)
      return statement.AndStatement.Statements.every((s: any) => matches(s, request));
    if (statement.OrStatement) return statement.OrStatement.Statements.some((s: any) => matches(s, request));
    if (statement.NotStatement) return !matches(statement.NotStatement.Statement, request);
    if (statement.LabelMatchStatement)
      return (request.labels ?? []).includes(statement.LabelMatchStatement.Key);
    if (statement.ByteMatchStatement) {
      expect(statement.ByteMatchStatement.PositionalConstraint).toBe("EXACTLY");
      return (
        textOf(statement.ByteMatchStatement.FieldToMatch, request) ===
        statement.ByteMatchStatement.SearchString
      );
    }
    if (statement.RegexMatchStatement) {
      const { RegexString, FieldToMatch, TextTransformations } = statement.RegexMatchStatement;
      const text = textOf(FieldToMatch, request);
      const decoded = (TextTransformations as { Type: string }[]).some((t) => t.Type === "URL_DECODE");
      return new RegExp(RegexString).test(decoded ? decodeURIComponent(text) : text);
    }
    if (statement.SizeConstraintStatement) {
      const { FieldToMatch, ComparisonOperator, Size } = statement.SizeConstraintStatement;
      expect(ComparisonOperator).toBe("GT");
      if (request.bodyBytes > WAF_BODY_INSPECTION.bytes)
        return FieldToMatch.Body.OversizeHandling === "MATCH";
      return request.bodyBytes > Size;
    }
    throw new Error(`statement not modelled: ${Object.keys(statement).join(",")}`);
  };
  const acl = () => apiWebAclProperties();
  const blockingRules = (status: number) =>
    (acl().Rules as any[]).filter((rule) => rule.Action?.Block?.CustomResponse?.ResponseCode === status);
  const samplePath = (path: string) => path.replace(/\{\w+\}/g, "3f2a9c1e-0b7d-4e11-9a55-2c8e6f1d0a42");
  /** A path with its first letter percent-encoded: API Gateway routes it as the plain one. */
  const encoded = (path: string) =>
    path.replace(/[a-z]/, (letter) => `%${letter.charCodeAt(0).toString(16)}`);
  const requestsTo = (route: (typeof routeList)[number], bytes: number) =>
    [samplePath(route.path), `/test${samplePath(route.path)}`, encoded(samplePath(route.path))].map(
      (path) => ({
        method: route.method,
        path,
        bodyBytes: bytes,
        contentLength: bytes,
      }),
    );

  it("every route's body limit in WAF is the one its function enforces (from the manifest), checked on the body up to 64 KB and on Content-Length beyond", () => {
    expect(acl().AssociationConfig).toEqual({
      RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: WAF_BODY_INSPECTION.setting } },
    });
    const sizeRules = blockingRules(413);
    expect(sizeRules.length).toBe(new Set(routeList.map(bodyLimitBytes)).size);
    for (const route of routeList) {
      const limit = bodyLimitBytes(route);
      for (const request of requestsTo(route, limit))
        expect(sizeRules.filter((rule) => matches(rule.Statement, request)).map((rule) => rule.Name)).toEqual(
          [],
        );
      for (const request of requestsTo(route, limit + 1))
        expect(
          sizeRules.filter((rule) => matches(rule.Statement, request)),
          `${route.id} over ${limit} bytes`,
        ).toHaveLength(1);
    }
    // The limits are the manifest's: transcripts 1.2 MB, other bodies the default, body-less routes none.
    expect(bodyLimitBytes(routes.uploadTranscript)).toBe(routes.uploadTranscript.maxBodyBytes);
    expect(bodyLimitBytes(routes.createNote)).toBe(DEFAULT_MAX_BODY_BYTES);
    expect(bodyLimitBytes(routes.getClient)).toBe(0);
    // …and the functions' too: the cloud never overrides the default limit.
    for (const fn of resources("AWS::Lambda::Function"))
      expect(fn.Properties.Environment?.Variables?.MAX_BODY_BYTES).toBeUndefined();
    // Every expression is one WAF takes: short, few alternatives, no capturing group.
    const expressions = [...JSON.stringify(acl().Rules).matchAll(/"RegexString":("(?:[^"\\]|\\.)*")/g)].map(
      (match) => JSON.parse(match[1] as string) as string,
    );
    expect(expressions.length).toBeGreaterThan(0);
    for (const expression of expressions) {
      expect(expression.length).toBeLessThanOrEqual(MAX_REGEX_LENGTH);
      expect(expression.split("|").length).toBeLessThanOrEqual(MAX_REGEX_ALTERNATIVES);
      expect(expression).not.toMatch(/\((?!\?:)/);
    }
    // SizeRestrictions_BODY (8 KB for everything) only counts.
    const common = (acl().Rules as any[]).find((rule) => rule.Name === "AWSManagedRulesCommonRuleSet");
    expect(
      common.Statement.ManagedRuleGroupStatement.RuleActionOverrides.find(
        (o: any) => o.Name === "SizeRestrictions_BODY",
      ).ActionToUse,
    ).toEqual({ Count: {} });
  });

  it("the Content-Length check matches exactly the lengths over the limit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.integer({ min: 0, max: 10 ** 10 }),
        (limit, length) => {
          expect(new RegExp(greaterThanPattern(limit)).test(String(length))).toBe(length > limit);
          expect(new RegExp(greaterThanPattern(limit)).test(`00${length}`)).toBe(length > limit);
        },
      ),
    );
  });

  it("the managed free-text body rules (XSS, LFI, RFI, SQLi) only count on routes whose body is PHI free text, and block everywhere else", () => {
    const freeText = freeTextRoutes(routeList).map((route) => route.id);
    expect(freeText).toEqual(
      expect.arrayContaining([
        "createNote",
        "updateNote",
        "uploadTranscript",
        "createClient",
        "updateClient",
      ]),
    );
    const labels = MANAGED_RULE_GROUPS.flatMap((group) =>
      Object.entries(group.rules)
        .filter(([, use]) => use === "freeText")
        .map(([rule]) => ruleLabel(group.labelNamespace, rule)),
    );
    expect(labels).toEqual(
      expect.arrayContaining([
        "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body",
        "awswaf:managed:aws:sql-database:SQLi_Body",
      ]),
    );
    const rules = acl().Rules as any[];
    for (const group of MANAGED_RULE_GROUPS) {
      const overrides = rules.find((rule) => rule.Name === group.name).Statement.ManagedRuleGroupStatement
        .RuleActionOverrides as any[];
      for (const [rule, use] of Object.entries(group.rules))
        expect(Object.keys(overrides.find((o) => o.Name === rule).ActionToUse)).toEqual([
          use === "block" ? "Block" : "Count",
        ]);
    }
    const reblock = blockingRules(403).filter((rule) => !rule.Statement.ManagedRuleGroupStatement);
    for (const route of routeList)
      for (const label of labels)
        for (const request of requestsTo(route, 100)) {
          const blocked = reblock.some((rule) => matches(rule.Statement, { ...request, labels: [label] }));
          expect([route.id, label, blocked]).toEqual([route.id, label, !freeText.includes(route.id)]);
        }
  });

  it("every WAF block answers in the API's error format (JSON) with the headers the API sends", () => {
    const { Rules, CustomResponseBodies } = acl();
    const actions = (Rules as any[]).flatMap((rule) => [
      rule.Action,
      ...(rule.Statement.ManagedRuleGroupStatement?.RuleActionOverrides ?? []).map((o: any) => o.ActionToUse),
    ]);
    const blocks = actions.filter((action) => action?.Block);
    const managedBlocks = MANAGED_RULE_GROUPS.flatMap((group) => Object.values(group.rules)).filter(
      (use) => use === "block",
    );
    const ownRules = (Rules as any[]).filter((rule) => !rule.Statement.ManagedRuleGroupStatement);
    expect(blocks).toHaveLength(managedBlocks.length + ownRules.length);
    const headers = edgeResponseHeaders(context.allowedOrigins);
    expect(headers["Access-Control-Allow-Origin"]).toBe(context.allowedOrigins[0]);
    for (const { Block } of blocks) {
      const response = Block.CustomResponse;
      expect(Object.fromEntries(response.ResponseHeaders.map((h: any) => [h.Name, h.Value]))).toEqual(
        headers,
      );
      const body = CustomResponseBodies[response.CustomResponseBodyKey];
      expect(body.ContentType).toBe("APPLICATION_JSON");
      const code = JSON.parse(body.Content).error.code;
      expect(code).toBe(response.ResponseCode === 413 ? "PAYLOAD_TOO_LARGE" : "REQUEST_BLOCKED");
    }
    expect(blockingRules(429).map((rule) => rule.Name)).toEqual(["RateLimitPerIp"]);
  });

  it("the web ACL stays within its 1,500 WCU budget", () => {
    const managed: Record<string, number> = {
      AWSManagedRulesCommonRuleSet: 700,
      AWSManagedRulesKnownBadInputsRuleSet: 200,
      AWSManagedRulesSQLiRuleSet: 200,
      AWSManagedRulesAmazonIpReputationList: 25,
    };
    // The WAF developer guide's costs: 10 per text transformation (other than NONE) on a statement.
    const transformations = (statement: any) =>
      ((statement.TextTransformations ?? []) as { Type: string }[]).filter((t) => t.Type !== "NONE").length *
      10;
    const cost = (statement: any): number => {
      if (statement.AndStatement)
        return statement.AndStatement.Statements.reduce((t: number, s: any) => t + cost(s), 0);
      if (statement.OrStatement)
        return statement.OrStatement.Statements.reduce((t: number, s: any) => t + cost(s), 0);
      if (statement.NotStatement) return cost(statement.NotStatement.Statement);
      if (statement.ManagedRuleGroupStatement)
        return managed[statement.ManagedRuleGroupStatement.Name] as number;
      if (statement.RateBasedStatement) return 2;
      if (statement.LabelMatchStatement) return 1;
      if (statement.SizeConstraintStatement) return 1;
      if (statement.ByteMatchStatement) return 2 + transformations(statement.ByteMatchStatement);
      if (statement.RegexMatchStatement) return 3 + transformations(statement.RegexMatchStatement);
      throw new Error(`no cost for ${Object.keys(statement).join(",")}`);
    };
    const total = (acl().Rules as any[]).reduce((sum, rule) => sum + cost(rule.Statement), 0);
    expect(total).toBeLessThanOrEqual(WAF_CAPACITY_BUDGET);
  });

  it("gateway responses answer in the API's error format with the security headers, and CORS for the one allowed origin", () => {
    const responses = resources("AWS::ApiGateway::GatewayResponse");
    const byType = Object.fromEntries(responses.map((r) => [r.Properties.ResponseType, r.Properties]));
    expect(Object.keys(byType).sort()).toEqual(
      [
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "MISSING_AUTHENTICATION_TOKEN",
        "REQUEST_TOO_LARGE",
        "UNAUTHORIZED",
      ].sort(),
    );
    const expected = Object.fromEntries(
      Object.entries(edgeResponseHeaders(context.allowedOrigins)).map(([name, value]) => [
        `gatewayresponse.header.${name}`,
        `'${value}'`,
      ]),
    );
    for (const response of responses) {
      expect(response.Properties.ResponseParameters).toEqual(expected);
      const body = JSON.parse(
        response.Properties.ResponseTemplates["application/json"].replace(
          "$context.error.messageString",
          '"Gateway message"',
        ),
      );
      expect(Object.keys(body.error).sort()).toEqual(["code", "message", "requestId"]);
    }
    for (const [type, error] of [
      ["MISSING_AUTHENTICATION_TOKEN", GATEWAY_ERRORS.notFound],
      ["UNAUTHORIZED", GATEWAY_ERRORS.unauthorized],
      ["REQUEST_TOO_LARGE", GATEWAY_ERRORS.tooLarge],
    ] as const) {
      expect(byType[type].StatusCode).toBe(String(error.status));
      expect(JSON.parse(byType[type].ResponseTemplates["application/json"]).error).toMatchObject({
        code: error.code,
        message: error.message,
      });
    }
  });

  it("every path of a route answers a preflight: security headers always, CORS only for an allowed origin (never echoing another)", () => {
    const options = resources("AWS::ApiGateway::Method").filter((m) => m.Properties.HttpMethod === "OPTIONS");
    const paths = [...new Set(routeList.map((route) => route.path))];
    expect(options).toHaveLength(paths.length);
    const templates = options.map((method) => {
      const response = method.Properties.Integration.IntegrationResponses[0];
      expect(response.StatusCode).toBe("204");
      for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, Vary: "Origin" }))
        expect(response.ResponseParameters[`method.response.header.${name}`]).toBe(`'${value}'`);
      expect(JSON.stringify(response.ResponseParameters)).not.toContain("Access-Control");
      return response.ResponseTemplates["application/json"] as string;
    });
    for (const path of paths) {
      const methods = routeList.filter((route) => route.path === path).map((route) => route.method);
      const cors = preflightCorsHeaders("$origin", methods);
      const template = templates.find((candidate) =>
        candidate.includes(`Access-Control-Allow-Methods = "${cors["Access-Control-Allow-Methods"]}"`),
      );
      expect(template, path).toBeDefined();
      expect(template).toContain(`#if($origin == "${context.allowedOrigins[0]}")`);
      for (const name of Object.keys(cors))
        expect(template).toContain(`$context.responseOverride.header.${name} =`);
    }
  });

  it("with several allowed origins no static answer names one (gateway responses, WAF blocks); preflights allow each", () => {
    const origins = ["https://app.test.example", "https://admin.test.example"];
    const built = buildApp(
      new App({
        context: { ...context, stage: "origins", allowedOrigins: origins, "aws:cdk:bundling-stacks": [] },
      }),
    );
    const several = JSON.stringify(synthesized(built).template.toJSON());
    expect(several).not.toContain("gatewayresponse.header.Access-Control-Allow-Origin");
    expect(several).not.toContain('"Name":"Access-Control-Allow-Origin"');
    expect(several).toContain(
      JSON.stringify(`#if($origin == "${origins[0]}" || $origin == "${origins[1]}")`).slice(1, -1),
    );
  });
});

describe("alarms (issue 10 item 12)", () => {
  const acl = () => apiWebAclProperties();
  const alarms = () => resources("AWS::CloudWatch::Alarm").map((alarm) => alarm.Properties);
  const topicArns = () => resources("AWS::SNS::Topic").length;

  it("the stack's own metrics are per stage; every alarm goes to the alarm topic", () => {
    const namespaces = new Set(
      resources("AWS::Logs::MetricFilter").map(
        (filter) => filter.Properties.MetricTransformations[0].MetricNamespace,
      ),
    );
    expect([...namespaces].sort()).toEqual(["CoachVault/test", "CoachVault/test/CloudTrail"]);
    for (const alarm of alarms()) {
      if (alarm.Namespace?.startsWith("CoachVault"))
        expect(alarm.Namespace).toMatch(/^CoachVault\/test(\/|$)/);
      expect(alarm.AlarmActions).toHaveLength(1);
    }
    expect(topicArns()).toBe(1);
  });

  it("CIS filters: root use, console sign-in without MFA, security group and bucket policy changes", () => {
    for (const name of [
      "RootAccountUsage",
      "ConsoleSignInWithoutMfa",
      "SecurityGroupChanges",
      "S3BucketPolicyChanges",
    ]) {
      const filter = resources("AWS::Logs::MetricFilter").find(
        (candidate) => candidate.Properties.MetricTransformations[0].MetricName === name,
      );
      expect(filter?.Properties.FilterPattern, name).toBe(TRAIL_ALARMS[name as keyof typeof TRAIL_ALARMS]);
      expect(alarms().find((alarm) => alarm.MetricName === name)).toMatchObject({
        Namespace: "CoachVault/test/CloudTrail",
        Threshold: 1,
      });
    }
    expect(TRAIL_ALARMS.RootAccountUsage).toContain('$.userIdentity.type = "Root"');
    expect(TRAIL_ALARMS.ConsoleSignInWithoutMfa).toContain('$.additionalEventData.MFAUsed != "Yes"');
    expect(TRAIL_ALARMS.SecurityGroupChanges).toContain("AuthorizeSecurityGroupIngress");
    expect(TRAIL_ALARMS.S3BucketPolicyChanges).toContain("PutBucketPolicy");
  });

  it("the checkpoint job not running for 15 minutes alarms, missing data included", () => {
    const heartbeat = alarms().find((alarm) => alarm.MetricName === "Invocations");
    expect(heartbeat).toMatchObject({
      Namespace: "AWS/Lambda",
      Statistic: "Sum",
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
    const fn = heartbeat?.Dimensions[0].Value;
    const checkpoint = built.stateless.jobs.functions.auditCheckpoint as NodejsFunction;
    expect(fn).toEqual({
      Ref: Stack.of(checkpoint).getLogicalId(checkpoint.node.defaultChild as CfnElement),
    });
  });

  it("WAF blocks alarm, on this stage's web ACL", () => {
    const waf = alarms().find((alarm) => alarm.Namespace === "AWS/WAFV2");
    expect(waf).toMatchObject({ MetricName: "BlockedRequests", Threshold: WAF_BLOCKS_THRESHOLD });
    const dimensions = Object.fromEntries(((waf?.Dimensions ?? []) as any[]).map((d) => [d.Name, d.Value]));
    expect(dimensions).toMatchObject({ WebACL: acl().Name, Rule: "ALL" });
    expect(acl().Name).toBe("coachvault-test");
  });
});

describe("app client and invitation email (issue 10 item 13)", () => {
  it("the app client has no OAuth: no flow, no callback URL, no scope (sign-in is SRP through the API)", () => {
    const client = resources("AWS::Cognito::UserPoolClient")[0]?.Properties;
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(false);
    for (const key of [
      "AllowedOAuthFlows",
      "CallbackURLs",
      "LogoutURLs",
      "AllowedOAuthScopes",
      "DefaultRedirectURI",
    ])
      expect(client[key], key).toBeUndefined();
    expect(client.ExplicitAuthFlows).toEqual(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]);
  });

  it("without sesFromAddress invitations go through Cognito's own email", () => {
    const pool = resources("AWS::Cognito::UserPool")[0]?.Properties;
    expect(pool.EmailConfiguration).toEqual({ EmailSendingAccount: "COGNITO_DEFAULT" });
  });

  it("with sesFromAddress invitations go through SES, from that verified identity in the stage's region", () => {
    const built = buildApp(
      new App({
        context: {
          ...context,
          stage: "mail",
          sesFromAddress: "no-reply@coachvault.example",
          "aws:cdk:bundling-stacks": [],
        },
      }),
    );
    const pool = Object.values(
      Template.fromStack(built.stateful).findResources("AWS::Cognito::UserPool"),
    )[0] as {
      Properties: any;
    };
    expect(pool.Properties.EmailConfiguration).toMatchObject({
      EmailSendingAccount: "DEVELOPER",
      From: "no-reply@coachvault.example",
    });
    expect(JSON.stringify(pool.Properties.EmailConfiguration.SourceArn)).toContain(
      ":ses:us-east-1:111122223333:identity/no-reply@coachvault.example",
    );
  });

  it("a sesFromAddress that is not an address fails synthesis, naming the setting", () => {
    expect(() =>
      readSettings((key) => ({ ...context, sesFromAddress: "not-an-address" })[key as keyof typeof context]),
    ).toThrow(/sesFromAddress/);
  });
});

describe("token keys without internet (issue 10 item 3)", () => {
  const functionsByName = () =>
    Object.entries(template.findResources("AWS::Lambda::Function")) as [string, { Properties: any }][];
  const refresh = () =>
    functionsByName().find(([, fn]) => fn.Properties.FunctionName === "coachvault-test-refreshTokenKeys");

  it("the refresh job is the only function outside the isolated subnets, and every 5 minutes fetches the JWKS", () => {
    expect(jobList.filter((job) => job.network === "internet").map((job) => job.id)).toEqual([
      "refreshTokenKeys",
    ]);
    const [id, fn] = refresh() ?? [];
    expect(fn?.Properties.VpcConfig).toBeUndefined();
    const rule = resources("AWS::Events::Rule").find(
      (candidate) => candidate.Properties.Description === jobs.refreshTokenKeys.summary,
    );
    expect(rule?.Properties.ScheduleExpression).toBe("rate(5 minutes)");
    expect(rule?.Properties.Targets[0].Arn).toEqual({ "Fn::GetAtt": [id, "Arn"] });
    expect(fn?.Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it("its role holds only the one token-keys item (no read, no other item, no VPC interfaces)", () => {
    // Its own policy and the shared ones its role has (X-Ray only: it is outside the VPC).
    const all = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
    const role = Object.entries(all).find(
      ([id, resource]) => resource.Type === "AWS::IAM::Role" && id.startsWith("refreshTokenKeysRole"),
    )?.[1];
    const shared = ((role?.Properties.ManagedPolicyArns ?? []) as { Ref?: string }[]).flatMap((arn) =>
      arn.Ref && all[arn.Ref] ? [all[arn.Ref] as { Properties: any }] : [],
    );
    const actions = [
      ...resources("AWS::IAM::ManagedPolicy").filter((p) =>
        JSON.stringify(p.Properties.Roles ?? []).includes("refreshTokenKeys"),
      ),
      ...shared,
    ]
      .flatMap((p) => p.Properties.PolicyDocument.Statement as any[])
      .flatMap((s) => [s.Action].flat())
      .sort();
    expect(actions).toEqual([
      "dynamodb:PutItem",
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]);
  });

  it("every deploy that creates or changes the job runs it, before the API's stage exists", () => {
    const [id] = refresh() ?? [];
    const runs = Object.entries(template.findResources("Custom::RunJobOnDeploy"));
    expect(runs).toHaveLength(1);
    const [runId, run] = runs[0] as [string, { Properties: any }];
    expect(run.Properties.ServiceToken).toEqual({ "Fn::GetAtt": [id, "Arn"] });
    expect(run.Properties.job).toBe("refreshTokenKeys");
    // A run that never answers fails the deploy within minutes (CloudFormation's default wait is an hour).
    expect(Number(run.Properties.ServiceTimeout)).toBeGreaterThan(jobs.refreshTokenKeys.timeoutSeconds);
    expect(Number(run.Properties.ServiceTimeout)).toBeLessThanOrEqual(600);
    // Its code and settings are properties: a deploy that changes either runs it again.
    expect(run.Properties.code).toBeDefined();
    expect(run.Properties.environment.variables.USER_POOL_ID).toBeDefined();
    const stage = Object.values(template.findResources("AWS::ApiGateway::Stage"))[0] as {
      DependsOn?: string[];
    };
    // The run is in the jobs' nested stack: the stage waits for that stack, so for the run.
    expect(
      Object.keys(Template.fromStack(built.stateless.jobs).findResources("Custom::RunJobOnDeploy")),
    ).toEqual([runId]);
    const jobsStack = built.stateless.jobs.nestedStackResource as CfnElement;
    expect(stage.DependsOn).toContain(Stack.of(jobsStack).getLogicalId(jobsStack));
  });

  it("functions behind the authorizer read the item (auth:read-token-keys: GetItem and Query on that one partition) and no VPC interface endpoint is added for it", () => {
    for (const route of routeList.filter((r) => r.auth === "cognito")) {
      const policy = resources("AWS::IAM::ManagedPolicy").find((p) =>
        JSON.stringify(p.Properties.Roles ?? []).includes(`${route.id}Role`),
      );
      const reads = ((policy?.Properties.PolicyDocument.Statement ?? []) as any[]).find(
        (s) =>
          JSON.stringify(s.Condition?.["ForAllValues:StringEquals"]?.["dynamodb:LeadingKeys"]) ===
            JSON.stringify([TOKEN_KEYS_PARTITION_PATTERN]) &&
          JSON.stringify([s.Action].flat().sort()) ===
            JSON.stringify(["dynamodb:GetItem", "dynamodb:Query"]) &&
          JSON.stringify(s.Resource).includes("recordsTable"),
      );
      expect(reads, route.id).toBeDefined();
    }
  });
});

describe("wildcard-only actions: shared policies, acknowledged once", () => {
  /** Every acknowledged finding: the construct's path and the finding id. */
  const acknowledgedFindings = () =>
    acknowledgments(readSettings((key) => context[key as keyof typeof context])).flatMap((ack) =>
      ack
        .on(built)
        .flatMap((construct) =>
          (typeof ack.ids === "function" ? ack.ids(construct) : ack.ids).map(
            (id) => `${construct.node.path} ${id}`,
          ),
        ),
    );
  const statementsOf = (policy: { Properties: any }) =>
    policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
  const wildcards = (policy: { Properties: any }) =>
    statementsOf(policy).filter((statement) => statement.Resource === "*");
  /** The roles holding a shared policy: it is attached from the roles' side (they may be in nested stacks). */
  const roleRefs = (policy: { Properties: any }) => {
    const all = Object.entries(
      template.toJSON().Resources as Record<string, { Type: string; Properties: any }>,
    );
    const [policyId] = all.find(([, resource]) => JSON.stringify(resource) === JSON.stringify(policy)) ?? [];
    return all
      .filter(
        ([, resource]) =>
          resource.Type === "AWS::IAM::Role" &&
          JSON.stringify(resource.Properties.ManagedPolicyArns ?? []).includes(`{"Ref":"${policyId}"}`),
      )
      .map(([id]) => id)
      .sort();
  };

  it("X-Ray comes from one policy every function has, ENIs from one every function in the VPC has, DetectPHI from one only the PHI detector's function has; no other policy names '*'", () => {
    const functions = resources("AWS::Lambda::Function").filter(
      (fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === "coachvault",
    );
    expect(functions).toHaveLength(routeList.length + jobList.length);
    const roleOf = (fn: { Properties: any }) => fn.Properties.Role["Fn::GetAtt"][0] as string;
    const managed = resources("AWS::IAM::ManagedPolicy");
    const shared = managed.filter((policy) => wildcards(policy).length > 0);
    const naming = (action: string) => shared.find((policy) => JSON.stringify(policy).includes(action));
    const [tracing, networkInterfaces, phiDetection, inspection] = [
      naming("xray:PutTraceSegments"),
      naming("ec2:CreateNetworkInterface"),
      naming("comprehendmedical:DetectPHI"),
      naming("backup:ListBackupJobs"),
    ];
    expect(shared).toHaveLength(4);
    expect(statementsOf(tracing as never)).toEqual([
      { Effect: "Allow", Resource: "*", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] },
    ]);
    expect(statementsOf(networkInterfaces as never)).toEqual([
      {
        Effect: "Allow",
        Resource: "*",
        Action: [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ],
      },
    ]);
    expect(statementsOf(phiDetection as never)).toEqual([
      { Effect: "Allow", Resource: "*", Action: "comprehendmedical:DetectPHI" },
    ]);
    expect(roleRefs(tracing as never)).toEqual(functions.map(roleOf).sort());
    const inVpc = functions.filter((fn) => fn.Properties.VpcConfig !== undefined);
    expect(inVpc.length).toBe(functions.length - jobList.filter((job) => job.network === "internet").length);
    expect(roleRefs(networkInterfaces as never)).toEqual(inVpc.map(roleOf).sort());
    const detectors = [...routeList, ...jobList]
      .filter((fn) => fn.permissions.includes("phi:detect"))
      .map((fn) => fn.id);
    expect(detectors).toEqual(["uploadTranscript"]);
    expect(roleRefs(phiDetection as never)).toHaveLength(1);
    expect(roleRefs(phiDetection as never)[0]).toContain("uploadTranscriptRole");
    // Listing backup jobs and log groups takes "*" only: the compliance report's job alone.
    expect(statementsOf(inspection as never)).toEqual([
      { Effect: "Allow", Resource: "*", Action: ["backup:ListBackupJobs", "logs:DescribeLogGroups"] },
    ]);
    expect(roleRefs(inspection as never)).toHaveLength(1);
    expect(roleRefs(inspection as never)[0]).toContain("complianceReportRole");
    // In a VPC Lambda checks the ENI permissions when it creates the function: its role names the shared
    // policy (ManagedPolicyArns, checked above) and the function names its role, so it comes after them.
    for (const fn of inVpc) expect(roleRefs(networkInterfaces as never)).toContain(roleOf(fn));
  });

  it("Resource::* is acknowledged on the shared policies only; the acknowledged findings are pinned", () => {
    const findings = acknowledgedFindings();
    const anyResource = findings.filter((finding) => finding.endsWith("AwsSolutions-IAM5[Resource::*]"));
    expect(anyResource.map((finding) => finding.split("/").at(-1))).toEqual([
      "WildcardOnlyTracingPolicy AwsSolutions-IAM5[Resource::*]",
      "WildcardOnlyNetworkInterfacesPolicy AwsSolutions-IAM5[Resource::*]",
      "WildcardOnlyPhiDetectionPolicy AwsSolutions-IAM5[Resource::*]",
      "WildcardOnlyComplianceInspectionPolicy AwsSolutions-IAM5[Resource::*]",
    ]);
    // 249 before, with `Resource::*` and both buckets' objects acknowledged on every function's policy
    // (154 with the token-keys job's own findings and AWS Backup's managed policies on the backup role;
    // 160 with the settings routes' functions, three each: L1, IAM5 on their log streams, LambdaDLQ;
    // 173 with the security routes and jobs: the per-function acknowledgments, and one more failure queue;
    // 181 with the two detector stream jobs, four per function as for every function; 184 with the unblock
    // route's function; 185 with Cognito's auth events group, which may not be KMS-encrypted; 212 with the
    // four report routes and two report jobs, the reports bucket's objects and the report job's failure queue).
    expect(findings.length).toBeLessThanOrEqual(212);
  });
});

describe("the user directory: its own table, written only by the functions that manage people", () => {
  const WRITES = /^dynamodb:(PutItem|UpdateItem|DeleteItem|ConditionCheckItem|BatchWriteItem|PartiQL.*|\*)$/;
  const writesTo = (tableId: string, policy: { Properties: any }) =>
    (
      policy.Properties.PolicyDocument.Statement as {
        Action: unknown;
        Resource: unknown;
        Condition?: unknown;
      }[]
    )
      .filter((statement) => JSON.stringify(statement.Resource).includes(tableId))
      .filter((statement) => [statement.Action].flat().some((action) => WRITES.test(String(action))));
  /** Each function of the manifests with its own policy (the one naming its log group). */
  const functionPolicies = () =>
    [...routeList, ...jobList].map((fn) => {
      const own = resources("AWS::IAM::ManagedPolicy").filter((policy) =>
        new RegExp(`"(Api|Jobs)?${fn.id}Logs[0-9A-F]{8}"`).test(
          JSON.stringify(policy.Properties.PolicyDocument),
        ),
      );
      expect(own, fn.id).toHaveLength(1);
      return { fn, policy: own[0] as { Properties: any } };
    });

  it("only functions with directory:write may write it; changes:hold reaches held changes only; records writers reach no person", () => {
    const directory = logicalIdOf("AWS::DynamoDB::GlobalTable", "directory");
    expect(directory).toBeDefined();
    const writers: string[] = [];
    for (const { fn, policy } of functionPolicies()) {
      const statements = writesTo(directory, policy);
      if (fn.permissions.includes("directory:write")) {
        writers.push(fn.id);
        continue;
      }
      for (const statement of statements) {
        expect(fn.permissions, fn.id).toContain("changes:hold");
        expect([statement.Action].flat().sort(), fn.id).toEqual(["dynamodb:PutItem", "dynamodb:UpdateItem"]);
        expect(statement.Condition, fn.id).toEqual({
          "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [HELD_CHANGE_PARTITION_PATTERN] },
        });
      }
    }
    expect(writers.sort()).toEqual([
      "approveChange",
      "identitySync",
      "inviteUser",
      "processInvite",
      "updateUser",
    ]);
    // Functions that write client records (a coach's routes among them) and cannot write a person.
    const recordWriters = [...routeList, ...jobList].filter(
      (fn) =>
        fn.permissions.some((permission) => /^records:(write|update|delete)$/.test(permission)) &&
        !fn.permissions.includes("directory:write"),
    );
    expect(recordWriters.map((fn) => fn.id)).toEqual(expect.arrayContaining(["createClient", "createNote"]));
    // Nothing else (the shared policies, CloudTrail's, AWS Backup's) writes it.
    const others = resources("AWS::IAM::ManagedPolicy").filter(
      (policy) => !functionPolicies().some((own) => own.policy === policy),
    );
    for (const policy of others) expect(writesTo(directory, policy)).toEqual([]);
    // A person's partition is never a held change's; a held change's is.
    const matches = (key: string) =>
      new RegExp(`^${HELD_CHANGE_PARTITION_PATTERN.replaceAll("*", ".*")}$`).test(key);
    expect(matches(userKey("acme", "admin-1").pk)).toBe(false);
    expect(matches(orgRegistryItem("acme").pk)).toBe(false);
    expect(matches(changeKey("acme", "change-1").pk)).toBe(true);
  });

  it("the directory is encrypted, recoverable and backed up like every table, and every function reads it only through directory:read", () => {
    const directory = logicalIdOf("AWS::DynamoDB::GlobalTable", "directory");
    const table = template.toJSON().Resources[directory];
    expect(table?.Properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: "KMS" });
    expect(table?.Properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
    const selection = resources("AWS::Backup::BackupSelection")[0];
    expect(JSON.stringify(selection?.Properties.BackupSelection.Resources)).toContain(directory);
    // Every Cognito route reads its caller's directory entry on each request.
    for (const { fn, policy } of functionPolicies()) {
      const reads = JSON.stringify(policy).includes(directory);
      const cognito = "auth" in fn && fn.auth === "cognito";
      if (cognito || fn.permissions.some((permission) => /^(directory|changes):/.test(permission)))
        expect(reads, fn.id).toBe(true);
      else expect(reads, fn.id).toBe(false);
    }
  });
});

describe("stateful resources: retryable first deploy, stage lifecycle, trail mode, backups, log groups (issue 10)", () => {
  const cdkJson = JSON.parse(readFileSync("cdk.json", "utf8")).context as Record<string, unknown>;
  const noBundling = { "aws:cdk:bundling-stacks": [] };
  const prodContext = {
    stage: "prod",
    account: "111122223333",
    region: "eu-west-1",
    alarmEmail: "security@prod.example",
    allowedOrigins: "https://app.prod.example",
    replication: REPLICATION,
    ...noBundling,
  };
  const orgTrailArn = "arn:aws:cloudtrail:eu-west-1:999988887777:trail/org-trail";
  /** The whole app's resources and outputs (see `synthesized`). */
  const synth = (appContext: Record<string, unknown>) => {
    const whole = synthesized(buildApp(new App({ context: appContext }), {}));
    return {
      Resources: whole.template.toJSON().Resources,
      Outputs: Object.assign({}, ...whole.raw.map((t) => t.Outputs ?? {})),
      rootOf: whole.rootOf,
    } as {
      rootOf: Record<string, string>;
      Resources: Record<
        string,
        { Type: string; Properties: any; DeletionPolicy?: string; DependsOn?: string[] }
      >;
      Outputs?: Record<string, { Value: unknown }>;
    };
  };
  let dev: ReturnType<typeof synth>;
  let prod: ReturnType<typeof synth>;
  let organization: ReturnType<typeof synth>;
  beforeAll(() => {
    dev = synth({ ...cdkJson, ...noBundling, stage: "dev", account: "111122223333", region: "us-east-1" });
    prod = synth(prodContext);
    organization = synth({
      ...prodContext,
      stage: "org",
      trail: "organization",
      organizationTrailArn: orgTrailArn,
    });
  });
  const ofType = (t: ReturnType<typeof synth>, type: string) =>
    Object.entries(t.Resources).filter(([, resource]) => resource.Type === type);
  const one = (t: ReturnType<typeof synth>, type: string, fragment: string) =>
    ofType(t, type).find(([id]) => id.includes(fragment))?.[1] as {
      Properties: any;
      DeletionPolicy?: string;
    };

  it("no retained resource has a fixed physical name: a rolled-back first deploy leaves nothing a retry collides with", () => {
    // Cognito pool names need not be unique (a display name); function names are not retained.
    const nameProperties = [
      "TableName",
      "BucketName",
      "LogGroupName",
      "BackupVaultName",
      "QueueName",
      "TopicName",
    ];
    for (const t of [dev, prod]) {
      const retained = Object.entries(t.Resources).filter(([, r]) => r.DeletionPolicy === "Retain");
      expect(retained.length).toBeGreaterThan(0);
      for (const [id, resource] of retained)
        for (const property of nameProperties) {
          const name = resource.Properties?.[property];
          if (name === undefined) continue;
          // A deploy-unique part: the stack id, or a resource whose id CloudFormation makes (the REST API's).
          const unique = JSON.stringify(name).match(/"AWS::StackId"|"Ref":"(\w+)"/g) ?? [];
          expect(unique.length, `${id}.${property}`).toBeGreaterThan(0);
        }
    }
    // The tables' names reach the functions through their environment.
    const [, fn] = ofType(prod, "AWS::Lambda::Function").find(([, f]) => f.Properties.Environment) ?? [];
    expect(fn?.Properties.Environment.Variables.TABLE_AUDIT).toEqual({
      Ref: ofType(prod, "AWS::DynamoDB::GlobalTable").find(([id]) => id.includes("audit"))?.[0],
    });
  });

  it("prod (a stage that says nothing): everything kept and protected, Object Lock in compliance mode, Vault Lock", () => {
    for (const [, table] of ofType(prod, "AWS::DynamoDB::GlobalTable")) {
      expect(table.DeletionPolicy).toBe("Retain");
      expect(table.Properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
    }
    const pool = one(prod, "AWS::Cognito::UserPool", "Users");
    expect([pool.DeletionPolicy, pool.Properties.DeletionProtection]).toEqual(["Retain", "ACTIVE"]);
    for (const type of [
      "AWS::KMS::Key",
      "AWS::S3::Bucket",
      "AWS::Logs::LogGroup",
      "AWS::Backup::BackupVault",
    ])
      for (const [id, resource] of ofType(prod, type)) expect(resource.DeletionPolicy, id).toBe("Retain");
    const locked = ofType(prod, "AWS::S3::Bucket").filter(([, b]) => b.Properties.ObjectLockEnabled);
    expect(locked).toHaveLength(3);
    for (const [, bucket] of locked)
      expect(bucket.Properties.ObjectLockConfiguration.Rule.DefaultRetention.Mode).toBe("COMPLIANCE");
    expect(ofType(prod, "Custom::S3AutoDeleteObjects")).toHaveLength(0);
    const [, vault] = ofType(prod, "AWS::Backup::BackupVault")[0] ?? [];
    expect(vault?.Properties.LockConfiguration).toEqual({
      MinRetentionDays: KEYS_BACKUP_DAYS,
      ChangeableForDays: 3,
    });
  });

  it("dev (cdk.json's stages.dev): destroyed with the stack and deployable again; what cannot be emptied is kept under a fresh name", () => {
    for (const [, table] of ofType(dev, "AWS::DynamoDB::GlobalTable")) {
      expect(table.DeletionPolicy).toBe("Delete");
      expect(table.Properties.Replicas[0].DeletionProtectionEnabled).toBe(false);
    }
    // The audit table's append-only policy binds CloudFormation too: only where the stack keeps its data
    // may it deny DeleteTable (else `cdk destroy` and a failed first deploy's rollback would fail).
    const deniesTableDeletion = (template: typeof dev) =>
      ofType(template, "AWS::DynamoDB::GlobalTable").map(([, table]) =>
        JSON.stringify(table.Properties.Replicas[0].ResourcePolicy ?? {}).includes("dynamodb:DeleteTable"),
      );
    expect(deniesTableDeletion(dev).filter(Boolean)).toHaveLength(0);
    expect(deniesTableDeletion(prod).filter(Boolean)).toHaveLength(1);
    // Backup plan names are unique per account and region: each carries its stack's (so its stage's) name.
    for (const [template, stage] of [
      [dev, "dev"],
      [prod, "prod"],
    ] as const)
      for (const [, plan] of ofType(template, "AWS::Backup::BackupPlan"))
        expect(plan.Properties.BackupPlan.BackupPlanName).toMatch(
          new RegExp(`^CoachVault-${stage}-Stateful-`),
        );
    const pool = one(dev, "AWS::Cognito::UserPool", "Users");
    expect([pool.DeletionPolicy, pool.Properties.DeletionProtection]).toEqual(["Delete", "INACTIVE"]);
    for (const [id, key] of ofType(dev, "AWS::KMS::Key")) {
      expect(key.DeletionPolicy, id).toBe("Delete");
      expect(key.Properties.PendingWindowInDays).toBe(7);
    }
    for (const [id, group] of ofType(dev, "AWS::Logs::LogGroup"))
      expect(group.DeletionPolicy, id).toBe("Delete");
    // Buckets that can be emptied are emptied and deleted; those under Object Lock (governance mode in dev:
    // an operator may bypass it) are kept, as is the vault (recovery points), each under a CloudFormation name.
    const emptied = ofType(dev, "Custom::S3AutoDeleteObjects").map(([, r]) => r.Properties.BucketName.Ref);
    for (const [id, bucket] of ofType(dev, "AWS::S3::Bucket")) {
      if (bucket.Properties.ObjectLockEnabled) {
        expect(bucket.DeletionPolicy, id).toBe("Retain");
        expect(bucket.Properties.ObjectLockConfiguration.Rule.DefaultRetention.Mode).toBe("GOVERNANCE");
      } else {
        expect(bucket.DeletionPolicy, id).toBe("Delete");
        expect(emptied).toContain(id);
      }
    }
    const [, vault] = ofType(dev, "AWS::Backup::BackupVault")[0] ?? [];
    expect(vault?.Properties.LockConfiguration).toBeUndefined();
  });

  it("trail 'organization': no trail, bucket or trail alarms of its own; the PHI data-event selectors are an output for the organization trail", () => {
    expect(ofType(organization, "AWS::CloudTrail::Trail")).toHaveLength(0);
    expect(
      ofType(organization, "AWS::S3::Bucket").filter(([id]) => id.startsWith("CloudTrail")),
    ).toHaveLength(0);
    expect(
      ofType(organization, "AWS::Logs::MetricFilter").filter(
        ([, f]) => f.Properties.MetricTransformations[0].MetricNamespace === "CoachVault/CloudTrail",
      ),
    ).toHaveLength(0);
    const output = JSON.stringify(organization.Outputs?.PhiDataEventSelectors?.Value);
    for (const kind of ["AWS::S3::Object", "AWS::DynamoDB::Table"]) expect(output).toContain(kind);
    for (const [id] of ofType(organization, "AWS::DynamoDB::GlobalTable")) expect(output).toContain(id);
    for (const bucket of ["transcriptsBucket", "checkpointsBucket"]) expect(output).toContain(bucket);
    // The same selectors the stage's own trail records (own mode).
    const [, trail] = ofType(prod, "AWS::CloudTrail::Trail")[0] ?? [];
    expect(trail?.Properties.AdvancedEventSelectors.slice(1).map((s: { Name: string }) => s.Name)).toEqual([
      "PHI objects",
      "PHI tables",
    ]);
    expect(output).toContain("PHI objects");
    expect(() =>
      readSettings((key) => (({ ...prodContext, trail: "organization" }) as Record<string, unknown>)[key]),
    ).toThrow('Stage prod has trail "organization" and needs organizationTrailArn');
  });

  it("the CloudTrail bucket accepts only this stage's trail (aws:SourceArn on every CloudTrail statement)", () => {
    const [, trail] = ofType(prod, "AWS::CloudTrail::Trail")[0] ?? [];
    const [, policy] =
      ofType(prod, "AWS::S3::BucketPolicy").find(
        ([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify(trail?.Properties.S3BucketName),
      ) ?? [];
    const forCloudTrail = ((policy?.Properties.PolicyDocument.Statement ?? []) as any[]).filter(
      (statement) => statement.Principal?.Service === "cloudtrail.amazonaws.com",
    );
    expect(forCloudTrail.map((statement) => statement.Action).sort()).toEqual([
      "s3:GetBucketAcl",
      "s3:PutObject",
    ]);
    for (const statement of forCloudTrail)
      expect(JSON.stringify(statement.Condition.StringEquals["aws:SourceArn"])).toContain(
        `:cloudtrail:eu-west-1:111122223333:trail/${trail?.Properties.TrailName}`,
      );
  });

  it("backups: the transcripts bucket too (AWS Backup's S3 policies), in a vault under its own key; failed or expired jobs alarm", () => {
    const selections = ofType(prod, "AWS::Backup::BackupSelection").map(
      ([, s]) => s.Properties.BackupSelection,
    );
    const transcripts = ofType(prod, "AWS::S3::Bucket").find(([id]) => id.includes("transcriptsBucket"))?.[0];
    expect(JSON.stringify(selections)).toContain(`"Fn::GetAtt":["${transcripts}","Arn"]`);
    // S3 needs versioning for AWS Backup, and the role AWS Backup's S3 policies.
    expect(one(prod, "AWS::S3::Bucket", "transcriptsBucket").Properties.VersioningConfiguration.Status).toBe(
      "Enabled",
    );
    const roleIds = new Set(selections.map((s) => s.IamRoleArn["Fn::GetAtt"][0]));
    expect(roleIds.size).toBe(1);
    const role = prod.Resources[[...roleIds][0] as string];
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      "AWSBackupServiceRolePolicyForS3Backup",
    );
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      "AWSBackupServiceRolePolicyForS3Restore",
    );
    // Its own key: nothing else is encrypted with it.
    const [, vault] = ofType(prod, "AWS::Backup::BackupVault")[0] ?? [];
    const keyId = vault?.Properties.EncryptionKeyArn["Fn::GetAtt"][0];
    const users = Object.entries(prod.Resources).filter(
      ([id, r]) => id !== keyId && JSON.stringify(r.Properties ?? {}).includes(`"${keyId}"`),
    );
    expect(users.filter(([, r]) => r.Type === "AWS::Backup::BackupVault")).toHaveLength(1);
    // Besides the vault, only the compliance report names it: to read its rotation, never to use it.
    for (const [id, r] of users.filter(([, r]) => r.Type !== "AWS::Backup::BackupVault")) {
      if (r.Type === "AWS::EC2::VPCEndpoint") {
        // The KMS endpoint lets the report describe it, nothing more.
        const onKey = (r.Properties.PolicyDocument.Statement as any[]).filter((statement) =>
          JSON.stringify(statement.Resource).includes(`"${keyId}"`),
        );
        expect(onKey.map((statement) => [statement.Action].flat().sort())).toEqual([
          ["kms:DescribeKey", "kms:GetKeyRotationStatus"],
        ]);
        continue;
      }
      expect(id).toContain("complianceReport");
      if (r.Type === "AWS::IAM::ManagedPolicy")
        for (const statement of r.Properties.PolicyDocument.Statement as any[])
          if (JSON.stringify(statement.Resource).includes(`"${keyId}"`))
            expect([statement.Action].flat().sort()).toEqual(["kms:DescribeKey", "kms:GetKeyRotationStatus"]);
    }
    const [, alarm] =
      ofType(prod, "AWS::CloudWatch::Alarm").find(([id]) => id.includes("BackupJobsFailed")) ?? [];
    const metrics = JSON.stringify(alarm?.Properties.Metrics);
    for (const name of ["NumberOfBackupJobsFailed", "NumberOfBackupJobsExpired"])
      expect(metrics).toContain(name);
    expect(metrics).toContain(
      `"Fn::GetAtt":["${ofType(prod, "AWS::Backup::BackupVault")[0]?.[0]}","BackupVaultName"]`,
    );
    expect(JSON.stringify(alarm?.Properties.AlarmActions)).toContain("Alarms");
  });

  it("a stage that keeps its data replicates every bucket to another region, re-encrypted there; only a destroyable stage acknowledges not replicating", () => {
    const destinations = Object.values(REPLICATION.buckets).sort();
    const buckets = ofType(prod, "AWS::S3::Bucket");
    expect(buckets).toHaveLength(5);
    const replicated = buckets.map(([id, bucket]) => {
      const replication = bucket.Properties.ReplicationConfiguration;
      expect(replication?.Rules, id).toHaveLength(1);
      const [rule] = replication.Rules;
      expect(rule.Status).toBe("Enabled");
      if (
        bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm === "aws:kms"
      ) {
        expect(rule.SourceSelectionCriteria.SseKmsEncryptedObjects.Status, id).toBe("Enabled");
        expect(rule.Destination.EncryptionConfiguration.ReplicaKmsKeyID).toBe(REPLICATION.kmsKeyArn);
      }
      return { role: replication.Role["Fn::GetAtt"][0], destination: rule.Destination.Bucket };
    });
    expect(replicated.map((r) => r.destination).sort()).toEqual(destinations);
    // One role for all, holding one customer-managed policy and nothing inline.
    const roles = new Set(replicated.map((r) => r.role));
    expect(roles.size).toBe(1);
    const roleId = [...roles][0] as string;
    expect(prod.Resources[roleId]?.Properties.Policies).toBeUndefined();
    const [, policy] =
      ofType(prod, "AWS::IAM::ManagedPolicy").find(([, p]) =>
        JSON.stringify(p.Properties.Roles ?? []).includes(roleId),
      ) ?? [];
    const statements = policy?.Properties.PolicyDocument.Statement as any[];
    const writes = statements.filter((statement) => [statement.Action].flat().includes("s3:ReplicateObject"));
    expect(writes.flatMap((statement) => [statement.Resource].flat()).sort()).toEqual(
      destinations.map((arn) => `${arn}/*`),
    );
    const settingsOf = (appContext: Record<string, unknown>) =>
      readSettings((key) => ({ ...cdkJson, ...appContext })[key]);
    const replicationAck = (appContext: Record<string, unknown>) =>
      acknowledgments(settingsOf(appContext)).some(
        (ack) => Array.isArray(ack.ids) && ack.ids.includes("HIPAA.Security-S3BucketReplicationEnabled"),
      );
    expect(replicationAck(prodContext)).toBe(false);
    expect(replicationAck({ stage: "dev" })).toBe(true);
    expect(acknowledgments(settingsOf(prodContext)).length).toBeLessThanOrEqual(10);
    expect(
      ofType(dev, "AWS::S3::Bucket").filter(([, b]) => b.Properties.ReplicationConfiguration),
    ).toHaveLength(0);
  });

  it("the issue's prod command (account, region, alarmEmail, allowedOrigins; no replication) synthesizes under both packs, warns that the backup plan is the only copy, and says so in the acknowledgment", () => {
    const { replication: _replication, ...issueProd } = prodContext;
    const issueBuilt = buildApp(new App({ context: issueProd }), {});
    expect(synthesized(issueBuilt).stacks.length).toBeGreaterThan(1);
    Annotations.fromStack(issueBuilt.stateful).hasWarning(
      "*",
      Match.stringLikeRegexp("replicates no bucket to another region"),
    );
    const settings = readSettings((key) => ({ ...cdkJson, ...issueProd })[key]);
    const ack = acknowledgments(settings).find(
      (entry) => Array.isArray(entry.ids) && entry.ids.includes("HIPAA.Security-S3BucketReplicationEnabled"),
    );
    expect(ack?.reason).toContain("AWS Backup plan");
    // With replication set, no such warning.
    const replicated = buildApp(new App({ context: prodContext }), {});
    synthesized(replicated);
    Annotations.fromStack(replicated.stateful).hasNoWarning(
      "*",
      Match.stringLikeRegexp("replicates no bucket"),
    );
  });

  it(`the keys table is backed up for ${KEYS_BACKUP_DAYS} days only, in a plan of its own; the README says so`, () => {
    const plans = Object.fromEntries(ofType(prod, "AWS::Backup::BackupPlan"));
    const keysTable = ofType(prod, "AWS::DynamoDB::GlobalTable").find(([id]) =>
      id.includes("keysTable"),
    )?.[0];
    const retention = ofType(prod, "AWS::Backup::BackupSelection").map(([, selection]) => {
      const plan = plans[selection.Properties.BackupPlanId["Fn::GetAtt"][0]];
      return {
        resources: JSON.stringify(selection.Properties.BackupSelection.Resources),
        days: plan?.Properties.BackupPlan.BackupPlanRule.map((rule: any) => rule.Lifecycle.DeleteAfterDays),
      };
    });
    const withKeys = retention.filter((r) => r.resources.includes(`"${keysTable}"`));
    expect(withKeys).toEqual([
      { resources: `[{"Fn::GetAtt":["${keysTable}","Arn"]}]`, days: [KEYS_BACKUP_DAYS] },
    ]);
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toContain(`backups of the keys table are kept ${KEYS_BACKUP_DAYS} days`);
    // Point-in-time recovery reaches 35 days back; the last backup holding a deleted key was taken before it.
    expect(readme).toContain(`unrecoverable ${Math.max(35, KEYS_BACKUP_DAYS)} days after`);
  });

  it("API Gateway's execution log group and the custom resources' function log groups are the stack's: encrypted, with retention, made first", () => {
    const [restApi] = ofType(prod, "AWS::ApiGateway::RestApi")[0] ?? [];
    const [stageId, apiStage] = ofType(prod, "AWS::ApiGateway::Stage")[0] ?? [];
    const groups = ofType(prod, "AWS::Logs::LogGroup");
    const [executionId, execution] =
      groups.find(([, g]) =>
        JSON.stringify(g.Properties.LogGroupName ?? "").includes("API-Gateway-Execution-Logs_"),
      ) ?? [];
    expect(execution?.Properties.LogGroupName).toEqual({
      "Fn::Join": ["", ["API-Gateway-Execution-Logs_", { Ref: restApi }, "/prod"]],
    });
    expect(apiStage?.DependsOn, stageId).toContain(executionId);
    const customResources = Object.entries(prod.Resources).filter(([, r]) => r.Type.startsWith("Custom::"));
    expect(customResources.length).toBeGreaterThan(0);
    for (const [id, resource] of customResources) {
      const handler = resource.Properties.ServiceToken["Fn::GetAtt"][0];
      // A job run on deploy (refreshTokenKeys) is served by the job's own function, which logs to its own
      // stack log group (checked below with every other); CDK's providers get theirs from customResourceLogs.
      const ownGroup = prod.Resources[handler]?.Properties.LoggingConfig?.LogGroup?.Ref;
      if (ownGroup) {
        expect(
          groups.map(([groupId]) => groupId),
          id,
        ).toContain(ownGroup);
        continue;
      }
      const [groupId] =
        groups.find(
          ([, g]) =>
            JSON.stringify(g.Properties.LogGroupName) ===
            JSON.stringify({ "Fn::Join": ["", ["/aws/lambda/", { Ref: handler }]] }),
        ) ?? [];
      expect(groupId, id).toBeDefined();
      expect(resource.DependsOn, id).toContain(groupId);
    }
    // All but Cognito's auth events group, which may not be KMS-encrypted (its own test, at the end).
    for (const [id, group] of groups.filter(([, g]) => !isAuthEventsGroup(g))) {
      expect(group.Properties.KmsKeyId, id).toBeDefined();
      expect(group.Properties.RetentionInDays, id).toBe(365);
    }
  });

  it("the logs key serves this stage's log groups only (kms:EncryptionContext:aws:logs:arn, ArnLike: * any run, ? one character), and every log group of the stack is among them", () => {
    const logsKey = Object.entries(prod.Resources).find(([id]) => id.startsWith("KeysLogs"))?.[1];
    const statements = logsKey?.Properties.KeyPolicy.Statement as any[];
    const forLogs = statements.filter((s) =>
      JSON.stringify(s.Principal).includes("logs.eu-west-1.amazonaws.com"),
    );
    expect(forLogs).toHaveLength(1);
    const patterns = JSON.stringify(forLogs[0].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"]);
    const withPartition = (arn: unknown) =>
      JSON.parse(JSON.stringify(arn).replaceAll('{"Ref":"AWS::Partition"}', '"aws"')) as unknown;
    const allowed = (JSON.parse(patterns) as unknown[]).map(
      (arn) =>
        new RegExp(
          `^${deployedPattern(withPartition(arn))
            .replace(/[.^$+()[\]{}|\\/]/g, "\\$&")
            .replaceAll("*", ".*")
            .replaceAll("?", ".")}$`,
        ),
    );
    const arnOf = (name: string) => `arn:aws:logs:eu-west-1:111122223333:log-group:${name}`;
    // CloudFormation names a log group after its stack (a nested stack's name starts with its parent's).
    const prodName = (logicalId: string) => `${prod.rootOf[logicalId]}-${logicalId}-1A2B3C4D5E6F`;
    for (const [id, group] of ofType(prod, "AWS::Logs::LogGroup").filter(([, g]) => !isAuthEventsGroup(g))) {
      const given = group.Properties.LogGroupName;
      const name = given
        ? (given["Fn::Join"][1] as unknown[])
            .map((part) =>
              typeof part === "string"
                ? part
                : JSON.stringify(part).includes("AWS::StackId")
                  ? "0a1b2c3d4e5f"
                  : prodName((part as { Ref: string }).Ref),
            )
            .join("")
        : prodName(id);
      expect(
        allowed.some((pattern) => pattern.test(arnOf(name))),
        name,
      ).toBe(true);
    }
    expect(allowed.some((pattern) => pattern.test(arnOf("CoachVault-dev-ApiAccessLogs-1")))).toBe(false);
    // Nor another stage whose name starts with this one's.
    for (const other of [
      "CoachVault-prod-eu-Stateless-ApiAccessLogs-1",
      "/aws/lambda/CoachVault-prod-eu-Stateful-Handler-1",
      "aws-waf-logs-coachvault-prod-eu-0a1b2c3d4e5f",
    ])
      expect(
        allowed.some((pattern) => pattern.test(arnOf(other))),
        other,
      ).toBe(false);
    expect(allowed.some((pattern) => pattern.test(arnOf("/aws/lambda/other-function")))).toBe(false);
  });

  it("every VPC endpoint has a policy scoped to the stack's resources and the account's principals", () => {
    const endpoints = ofType(prod, "AWS::EC2::VPCEndpoint");
    expect(endpoints.length).toBeGreaterThan(0);
    const anyResource = ["ComprehendMedical", "XRay"]; // DetectPHI and X-Ray accept no resource but "*"
    // What the compliance report reads through an endpoint with "*": configuration reads only.
    const readsAnyResource: Record<string, string[]> = {
      CloudTrail: ["cloudtrail:GetEventSelectors", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus"],
      Wafv2: ["wafv2:GetWebACL", "wafv2:GetWebACLForResource"],
      Backup: ["backup:ListBackupJobs"],
      Logs: ["logs:DescribeLogGroups"],
    };
    for (const [id, endpoint] of endpoints) {
      const statements = endpoint.Properties.PolicyDocument?.Statement as any[];
      const service = Object.keys(readsAnyResource).find((name) => id.includes(`Vpc${name}`));
      // Logs: the stage's groups, and listing groups; KMS: the keys functions use, and those only described.
      expect(statements, id).toHaveLength(service === "Logs" || id.includes("VpcKms") ? 2 : 1);
      if (id.includes("VpcKms"))
        expect([statements[1].Action].flat().sort()).toEqual(["kms:DescribeKey", "kms:GetKeyRotationStatus"]);
      for (const statement of statements) {
        const actions = [statement.Action].flat().sort();
        if (anyResource.some((name) => id.includes(name))) expect(statement.Resource).toBe("*");
        else if (service && statement.Resource === "*")
          expect(actions, id).toEqual(readsAnyResource[service]);
        else expect(JSON.stringify(statement.Resource), id).not.toMatch(/"\*"|:\*"|arn:aws:s3:::\*/);
        if (!id.includes("Cognito"))
          expect(statement.Condition, id).toEqual({
            StringEquals: { "aws:PrincipalAccount": "111122223333" },
          });
        expect(actions.join(), id).not.toBe("*");
      }
    }
    const byService = (fragment: string) =>
      JSON.stringify(endpoints.find(([id]) => id.includes(fragment))?.[1].Properties.PolicyDocument);
    for (const [id] of ofType(prod, "AWS::DynamoDB::GlobalTable"))
      expect(byService("DynamoDb")).toContain(id);
    expect(byService("Lambda")).toContain(":function:coachvault-prod-*");
  });
});

describe("rate limits and blocking (issue 11 item 2)", () => {
  const statementsOf = (routeId: string) =>
    (resources("AWS::IAM::ManagedPolicy").find((p) =>
      JSON.stringify(p.Properties.Roles ?? []).includes(`${routeId}Role`),
    )?.Properties.PolicyDocument.Statement ?? []) as any[];
  const onTable = (statements: any[], table: string) =>
    statements.filter((s) => JSON.stringify(s.Resource).includes(`${table}Table`));

  it("every function behind the authorizer may update limiter items and put signals, on those partitions only", () => {
    for (const route of routeList.filter((r) => r.auth === "cognito")) {
      const limits = onTable(statementsOf(route.id), "limits");
      expect(
        limits
          .filter((s) => JSON.stringify([s.Action].flat()) === JSON.stringify(["dynamodb:UpdateItem"]))
          .map((s) => s.Condition),
        route.id,
      ).toContainEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [LIMIT_PARTITION_PATTERN] } });
      // No function deletes a limiter item (that would refill the bucket); the unblock route alone holds a
      // second update, on principals' items only (it removes the block and strikes, never the bucket).
      expect(
        limits.filter((s) => [s.Action].flat().includes("dynamodb:DeleteItem")),
        route.id,
      ).toEqual([]);
      const principalUpdates = limits.filter(
        (s) =>
          JSON.stringify(s.Condition ?? {}).includes(JSON.stringify(PRINCIPAL_LIMIT_PARTITION_PATTERN)) &&
          [s.Action].flat().includes("dynamodb:UpdateItem"),
      );
      if (route.id === "unblockUser")
        expect(principalUpdates).toEqual([
          expect.objectContaining({
            Action: "dynamodb:UpdateItem",
            Condition: {
              "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [PRINCIPAL_LIMIT_PARTITION_PATTERN] },
            },
          }),
        ]);
      else expect(principalUpdates, route.id).toEqual([]);
      // Its signals (denials, refusals, blocks) through `security:signal`: put only, signal partitions only.
      expect(
        onTable(statementsOf(route.id), "security")
          .filter((s) => [s.Action].flat().includes("dynamodb:PutItem"))
          .map((s) => [[s.Action].flat(), s.Condition]),
        route.id,
      ).toContainEqual([
        ["dynamodb:PutItem"],
        { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": SIGNAL_PARTITION_PATTERNS } },
      ]);
    }
  });

  it("public routes have no limiter access (no principal to limit: the WAF's per-IP rule covers them)", () => {
    for (const route of routeList.filter((r) => r.auth === "none"))
      expect(onTable(statementsOf(route.id), "limits"), route.id).toEqual([]);
  });

  it("the limits table expires items by TTL on expiresAt", () => {
    const table = template.findResources("AWS::DynamoDB::GlobalTable")[
      logicalIdOf("AWS::DynamoDB::GlobalTable", "limitsTable")
    ] as { Properties: any };
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: "expiresAt", Enabled: true });
  });
});

describe("rate limits at the edge: WAF on the user pool and the API's per-IP rule (issue 11)", () => {
  const logicalIdOf = (type: string, name?: string) =>
    Object.entries(template.findResources(type)).find(
      ([, resource]) => name === undefined || resource.Properties.Name === name,
    )?.[0] as string;

  it("the user pool has a web ACL of its own, associated by the pool's ARN", () => {
    const signInAcl = logicalIdOf("AWS::WAFv2::WebACL", signInWebAclName("test"));
    const pool = logicalIdOf("AWS::Cognito::UserPool");
    expect(signInAcl).toBeDefined();
    const associations = resources("AWS::WAFv2::WebACLAssociation").map((a) => a.Properties);
    expect(associations).toContainEqual({
      ResourceArn: { "Fn::GetAtt": [pool, "Arn"] },
      WebACLArn: { "Fn::GetAtt": [signInAcl, "Arn"] },
    });
    // Cognito's own protection stays on behind it: threat protection enforcing (lockout, adaptive blocking).
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      UserPoolAddOns: { AdvancedSecurityMode: "ENFORCED" },
    });
  });

  it("its per-IP rate rule blocks over the limit in a 60 s window (WAF's floor is 10 a window), before the managed groups", () => {
    const acl = resources("AWS::WAFv2::WebACL").find(
      (candidate) => candidate.Properties.Name === signInWebAclName("test"),
    )?.Properties;
    expect(acl.Scope).toBe("REGIONAL");
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    const [rate, ...managed] = [...acl.Rules].sort((a: any, b: any) => a.Priority - b.Priority);
    expect(rate.Name).toBe("SignInRateLimitPerIp");
    expect(rate.Action).toEqual({ Block: {} });
    expect(rate.Statement.RateBasedStatement).toEqual({
      Limit: SIGN_IN_RATE_LIMIT_PER_IP,
      AggregateKeyType: "IP",
      EvaluationWindowSec: 60,
    });
    expect(SIGN_IN_RATE_LIMIT_PER_IP).toBeGreaterThanOrEqual(WAF_RATE_FLOOR);
    expect(WAF_RATE_WINDOW_SECONDS).toBe(60);
    expect(managed.map((rule: any) => rule.Statement.ManagedRuleGroupStatement)).toEqual(
      SIGN_IN_MANAGED_RULE_GROUPS.map((name) => ({ VendorName: "AWS", Name: name })),
    );
    for (const rule of managed) expect(rule.OverrideAction).toEqual({ None: {} });
  });

  it("its requests are logged like the API's: an encrypted aws-waf-logs- group, tokens and cookies redacted", () => {
    const signInAcl = logicalIdOf("AWS::WAFv2::WebACL", signInWebAclName("test"));
    const logging = resources("AWS::WAFv2::LoggingConfiguration")
      .map((config) => config.Properties)
      .find((config) => config.ResourceArn["Fn::GetAtt"][0] === signInAcl);
    expect(logging.RedactedFields).toEqual([
      { SingleHeader: { Name: "authorization" } },
      { SingleHeader: { Name: "cookie" } },
    ]);
    const groupId = logging.LogDestinationConfigs[0]["Fn::GetAtt"][0];
    const group = template.toJSON().Resources[groupId].Properties;
    expect(JSON.stringify(group.LogGroupName)).toContain("aws-waf-logs-coachvault-test-sign-in-");
    expect(group.KmsKeyId).toBeDefined();
  });

  it("the API's per-IP rule counts over 60 s at the rate it had (100 a minute, was 500 in 5 minutes)", () => {
    const rule = apiWebAclProperties().Rules.find((candidate: any) => candidate.Name === "RateLimitPerIp");
    expect(rule.Statement.RateBasedStatement).toEqual({
      Limit: API_RATE_LIMIT_PER_IP,
      AggregateKeyType: "IP",
      EvaluationWindowSec: 60,
    });
    expect(API_RATE_LIMIT_PER_IP).toBe(100);
  });
});

describe("security findings, signals and alerts (issue 11): what exists only in the cloud", () => {
  type Resource = { Type: string; Properties: any };
  const all = () => Object.entries(template.toJSON().Resources as Record<string, Resource>);
  const find = (type: string, fragment: string) =>
    all().find(([id, resource]) => resource.Type === type && id.includes(fragment));
  const functionIds = [...routeList, ...jobList].map((fn) => fn.id);
  const policyOf = (id: string) =>
    JSON.stringify(find("AWS::IAM::ManagedPolicy", `${id}Policy`)?.[1].Properties.PolicyDocument);
  const topicRef = () => {
    const [topicId] = Object.keys(stateful.findResources("AWS::SNS::Topic"));
    return { Ref: topicId };
  };

  it("only the functions that raise findings know the alarm topic, and only they may publish to it (its key through SNS only)", () => {
    const alerting = [...routeList, ...jobList]
      .filter((fn) => fn.permissions.includes("security:alert"))
      .map((fn) => fn.id);
    // PATCH /settings raises `settings_weakened` when a change loosens a protection.
    // The report job notifies a score drop or a newly failing critical check.
    expect(alerting).toEqual([
      "updateSettings",
      "securityReviews",
      "detectAudit",
      "detectSignals",
      "complianceReport",
    ]);
    for (const id of functionIds) {
      const fn = find("AWS::Lambda::Function", `${id}Function`)?.[1];
      expect(fn, id).toBeDefined();
      const variables = fn?.Properties.Environment.Variables ?? {};
      if (alerting.includes(id)) expect(variables.ALARM_TOPIC_ARN, id).toEqual(topicRef());
      else expect(variables, id).not.toHaveProperty("ALARM_TOPIC_ARN");
      const publishes = policyOf(id).includes('"sns:Publish"');
      expect(publishes, id).toBe(alerting.includes(id));
    }
    const document = JSON.parse(policyOf("securityReviews"));
    expect(document.Statement).toEqual(
      expect.arrayContaining([
        { Effect: "Allow", Action: "sns:Publish", Resource: topicRef() },
        expect.objectContaining({
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Condition: { StringEquals: { "kms:ViaService": "sns.us-east-1.amazonaws.com" } },
        }),
      ]),
    );
  });

  it("every function behind the authorizer may put signals into the signal partitions, and nothing else of the security table", () => {
    for (const route of routeList.filter((r) => r.auth === "cognito")) {
      const document = JSON.parse(policyOf(route.id));
      const signal = document.Statement.find(
        (s: any) =>
          JSON.stringify(s.Condition ?? {}).includes("#SIGNALS") &&
          [s.Action].flat().includes("dynamodb:PutItem"),
      );
      expect(signal, route.id).toMatchObject({
        Action: "dynamodb:PutItem",
        Condition: {
          "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["ORG#*#SIGNALS", "PLATFORM#SIGNALS"] },
        },
      });
    }
    // Findings are read by the list route only, and only in the findings' partitions.
    const list = JSON.parse(policyOf("listSecurityEvents"));
    expect(list.Statement).toContainEqual(
      expect.objectContaining({
        Action: "dynamodb:Query",
        Condition: {
          "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["ORG#*#EVENTS", "PLATFORM#EVENTS"] },
        },
      }),
    );
  });

  it("the API access log's 401s and the user pool's failed sign-ins reach the log-signals job through subscription filters", () => {
    const filters = resources("AWS::Logs::SubscriptionFilter");
    expect(filters.map((f) => f.Properties.FilterPattern).sort()).toEqual(
      ['{ $.status = "401" }', '{ ($.message.eventResponse = "Fail") || ($.eventResponse = "Fail") }'].sort(),
    );
    const [logSignalsId] = find("AWS::Lambda::Function", "logSignalsFunction") ?? [];
    for (const filter of filters)
      expect(filter.Properties.DestinationArn).toEqual({ "Fn::GetAtt": [logSignalsId, "Arn"] });
    const [accessLogsId] = find("AWS::Logs::LogGroup", "ApiAccessLogs") ?? [];
    expect(filters.map((f) => JSON.stringify(f.Properties.LogGroupName))).toContain(
      JSON.stringify({ Ref: accessLogsId }),
    );
    // CloudWatch Logs may invoke the job (once per subscribed group).
    const invokers = resources("AWS::Lambda::Permission").filter(
      (p) =>
        p.Properties.Principal === "logs.amazonaws.com" &&
        JSON.stringify(p.Properties.FunctionName).includes(String(logSignalsId)),
    );
    expect(invokers).toHaveLength(2);
  });

  it("the user pool exports its user auth events (threat protection, Plus plan) to a log group Cognito accepts: not KMS-encrypted, under /aws/vendedlogs/, kept 30 days", () => {
    const deliveries = Object.values(
      stateful.findResources("AWS::Cognito::LogDeliveryConfiguration"),
    ) as Resource[];
    expect(deliveries).toHaveLength(1);
    const [config] = (deliveries[0] as Resource).Properties.LogConfigurations as any[];
    expect(config).toMatchObject({ EventSource: "userAuthEvents", LogLevel: "INFO" });
    const groupId = config.CloudWatchLogsConfiguration.LogGroupArn["Fn::GetAtt"][0];
    expect(config.CloudWatchLogsConfiguration.LogGroupArn).toEqual({ "Fn::GetAtt": [groupId, "Arn"] });
    const group = stateful.toJSON().Resources[groupId] as Resource;
    expect(group.Type).toBe("AWS::Logs::LogGroup");
    // Cognito refuses a KMS-encrypted destination (CloudFormation, CloudWatchLogsConfiguration.LogGroupArn).
    expect(group.Properties).not.toHaveProperty("KmsKeyId");
    expect(group.Properties.RetentionInDays).toBe(30);
    const [, parts] = group.Properties.LogGroupName["Fn::Join"];
    expect(parts[0]).toBe("/aws/vendedlogs/coachvault-test-auth-events-");
    expect(JSON.stringify(parts[1])).toContain("AWS::StackId");
    // The only log group of the app without the logs key.
    const unencrypted = Object.entries(stateful.findResources("AWS::Logs::LogGroup")).filter(
      ([, g]) => !(g as Resource).Properties.KmsKeyId,
    );
    expect(unencrypted.map(([id]) => id)).toEqual([groupId]);
    stateful.hasResourceProperties("AWS::Cognito::UserPool", {
      UserPoolAddOns: { AdvancedSecurityMode: "ENFORCED" },
    });
  });

  it("the review job runs every 15 minutes; the log job is invoked by CloudWatch Logs with Lambda's async retries", () => {
    expect(jobs.securityReviews.trigger).toEqual({ schedule: "rate(15 minutes)" });
    const rules = resources("AWS::Events::Rule").filter(
      (rule) => rule.Properties.ScheduleExpression === "rate(15 minutes)",
    );
    expect(rules).toHaveLength(1);
    const [logSignalsId] = find("AWS::Lambda::Function", "logSignalsFunction") ?? [];
    const config = resources("AWS::Lambda::EventInvokeConfig").find((c) =>
      JSON.stringify(c.Properties.FunctionName).includes(String(logSignalsId)),
    );
    expect(config?.Properties).toMatchObject({ MaximumRetryAttempts: 2 });
  });
});

describe("idempotent retries (issue 11, item 3)", () => {
  /** The managed policy of a route's function (found by its log group, which only its own policy names). */
  const policyOf = (routeId: string) =>
    resources("AWS::IAM::ManagedPolicy").find((p) => JSON.stringify(p).includes(`"${routeId}Logs`));
  const statementsOf = (policy: { Properties: any } | undefined) =>
    (policy?.Properties.PolicyDocument.Statement ?? []) as {
      Action: unknown;
      Resource: unknown;
      Condition?: any;
    }[];
  const onIdempotencyTable = (statement: { Resource: unknown }) =>
    JSON.stringify(statement.Resource).includes("idempotencyTable");

  it("the idempotency table: key `id`, TTL on `expiration` (Powertools' defaults)", () => {
    const [table] = Object.entries(template.findResources("AWS::DynamoDB::GlobalTable"))
      .filter(([id]) => id.includes("idempotencyTable"))
      .map(([, resource]) => resource);
    expect(table?.Properties.KeySchema).toEqual([{ AttributeName: "id", KeyType: "HASH" }]);
    expect(table?.Properties.TimeToLiveSpecification).toEqual({ AttributeName: "expiration", Enabled: true });
  });

  it("every route that takes an Idempotency-Key may use the idempotency table, with exactly Powertools' four operations; no other function may", () => {
    const keyed = routeList.filter(takesIdempotencyKey).map((route) => route.id);
    expect(keyed.length).toBeGreaterThan(5);
    for (const id of keyed) {
      const table = statementsOf(policyOf(id)).filter(onIdempotencyTable);
      expect(table, id).toHaveLength(1);
      expect(table[0]?.Action, id).toEqual([
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
      ]);
      // The table itself, not its indexes or another table.
      expect(JSON.stringify(table[0]?.Resource), id).not.toContain("/index/");
    }
    // Others may only read its configuration (the compliance report's table checks), never an item.
    const describe = ["dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable"];
    const others = resources("AWS::IAM::ManagedPolicy")
      .filter((p) => !keyed.some((id) => policyOf(id) === p))
      .flatMap((p) => statementsOf(p).filter(onIdempotencyTable))
      .filter((statement) =>
        ([statement.Action].flat() as string[]).some((action) => !describe.includes(action)),
      );
    expect(others).toEqual([]);
  });

  it("each keyed route's function reaches only its own records (its key prefix, `<prefix>#<hash>`), so it cannot overwrite another route's stored answers", () => {
    const keyed = routeList.filter(takesIdempotencyKey);
    const prefixes = new Set(keyed.map((route) => idempotencyKeyPrefix(route)));
    expect(prefixes.size, "one prefix per route").toBe(keyed.length);
    for (const route of keyed) {
      const [table] = statementsOf(policyOf(route.id)).filter(onIdempotencyTable);
      expect(table?.Condition, route.id).toEqual({
        "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${idempotencyKeyPrefix(route)}#*`] },
      });
      // A prefix is a plain name: no IAM wildcard in it, and no `#`, so no prefix's pattern covers another's.
      expect(idempotencyKeyPrefix(route), route.id).toMatch(/^[^*?#]+$/);
    }
  });

  it("the digest key: KMS only under {purpose: idempotency-digest}, and its one keys-table item", () => {
    for (const route of routeList.filter(takesIdempotencyKey)) {
      const statements = statementsOf(policyOf(route.id));
      const kms = statements.find((s) =>
        JSON.stringify(s.Condition ?? {}).includes(DIGEST_KEY_CONTEXT.purpose),
      );
      expect(kms?.Action, route.id).toEqual(["kms:GenerateDataKey", "kms:Decrypt"]);
      expect(kms?.Condition, route.id).toEqual({
        StringEquals: { "kms:EncryptionContext:purpose": DIGEST_KEY_CONTEXT.purpose },
        "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["purpose"] },
      });
      const item = statements.find((s) => JSON.stringify(s.Condition ?? {}).includes(DIGEST_KEY_ITEM.pk));
      expect(item?.Action, route.id).toEqual(["dynamodb:GetItem", "dynamodb:PutItem"]);
      expect(JSON.stringify(item?.Resource), route.id).toContain("keysTable");
      expect(item?.Condition, route.id).toEqual({
        "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [DIGEST_KEY_ITEM.pk] },
      });
    }
  });

  it("preflights allow the Idempotency-Key header (the cloud's OPTIONS mock agrees with the pipeline)", () => {
    const options = resources("AWS::ApiGateway::Method").filter((m) => m.Properties.HttpMethod === "OPTIONS");
    expect(options.length).toBeGreaterThan(0);
    for (const method of options)
      expect(JSON.stringify(method.Properties.Integration)).toContain("Idempotency-Key");
  });
});

describe("security monitoring: the detectors on the audit and security streams (issue 11 item 4)", () => {
  const mappingOf = (jobId: string) =>
    resources("AWS::Lambda::EventSourceMapping").filter(
      (mapping) => mapping.Properties.FunctionName.Ref === logicalIdOf("AWS::Lambda::Function", jobId),
    );
  it("the security table streams, and each detector job has its own mapping: the audit stream a second consumer beside the witness", () => {
    const security = template.findResources("AWS::DynamoDB::GlobalTable")[
      logicalIdOf("AWS::DynamoDB::GlobalTable", "security")
    ] as { Properties: any };
    expect(security.Properties.StreamSpecification).toEqual({ StreamViewType: "NEW_AND_OLD_IMAGES" });
    const streamOf = (table: string) => ({
      "Fn::GetAtt": [logicalIdOf("AWS::DynamoDB::GlobalTable", table), "StreamArn"],
    });
    for (const [jobId, table] of [
      ["detectAudit", "audit"],
      ["detectSignals", "security"],
    ] as const) {
      const mappings = mappingOf(jobId);
      expect(mappings, jobId).toHaveLength(1);
      expect(mappings[0]?.Properties).toMatchObject({
        StartingPosition: "TRIM_HORIZON",
        BatchSize: 100,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        MaximumRetryAttempts: 10,
        EventSourceArn: streamOf(table),
      });
      const queueId = mappings[0]?.Properties.DestinationConfig.OnFailure.Destination["Fn::GetAtt"][0];
      expect(
        (template.findResources("AWS::SQS::Queue")[queueId] as { Properties: any }).Properties.KmsMasterKeyId,
      ).toBeDefined();
    }
    expect(resources("AWS::Lambda::EventSourceMapping")).toHaveLength(3);
  });

  it("filters as data: the signal detector gets new signals only, the audit detector new entries, the witness everything", () => {
    const patterns = (jobId: string) =>
      (mappingOf(jobId)[0]?.Properties.FilterCriteria?.Filters ?? []).map((filter: { Pattern: string }) =>
        JSON.parse(filter.Pattern),
      );
    expect(patterns("detectSignals")).toEqual([
      { eventName: ["INSERT"], dynamodb: { Keys: { sk: { S: [{ prefix: "SIGNAL#" }] } } } },
    ]);
    expect(patterns("detectAudit")).toEqual([{ eventName: ["INSERT"] }]);
    expect(mappingOf("auditWitness")[0]?.Properties.FilterCriteria).toBeUndefined();
  });

  it("least privilege: each reads its own stream; both write only detector state and findings; read settings (and the directory for the audit detector)", () => {
    const policiesWith = (text: string) => policies().filter((doc) => doc.includes(text));
    // Writers of detector state (the compliance report only reads it: `security:observe`).
    const detectorWrites = policiesWith("ORG#*#DETECT").filter((doc) =>
      (JSON.parse(doc).Statement as any[]).some(
        (statement) =>
          JSON.stringify(statement.Condition ?? {}).includes("ORG#*#DETECT") &&
          [statement.Action].flat().some((action: string) => /PutItem|UpdateItem|DeleteItem/.test(action)),
      ),
    );
    expect(detectorWrites).toHaveLength(2);
    for (const doc of detectorWrites) {
      const statements = JSON.parse(doc).Statement as any[];
      const onSecurity = statements.filter(
        (statement) =>
          JSON.stringify(statement.Resource).includes(
            logicalIdOf("AWS::DynamoDB::GlobalTable", "security"),
          ) && !JSON.stringify(statement.Resource).includes("StreamArn"),
      );
      // Every statement on the security table is pinned to the detectors' state or to findings (their store
      // and alarm outbox, `security:findings`): never a signal's partition.
      const pinned = (statement: any) =>
        [statement.Condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]].flat() as string[];
      expect([...new Set(onSecurity.flatMap(pinned))].sort()).toEqual([
        "ORG#*#DETECT",
        "ORG#*#EVENTS",
        "OUTBOX#EVENTS",
        "PLATFORM#DETECT",
        "PLATFORM#EVENTS",
      ]);
      for (const statement of onSecurity.filter((candidate) => pinned(candidate).includes("ORG#*#DETECT")))
        expect([statement.Action].flat().sort()).toEqual([
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:Query",
          "dynamodb:UpdateItem",
        ]);
      const settingsTable = logicalIdOf("AWS::DynamoDB::GlobalTable", "settings");
      const onSettings = statements.filter((statement) =>
        JSON.stringify(statement.Resource).includes(settingsTable),
      );
      expect(onSettings.map((statement) => statement.Action)).toEqual(["dynamodb:GetItem"]);
    }
    const securityStream = policies().filter((doc) =>
      doc.includes(
        JSON.stringify({
          "Fn::GetAtt": [logicalIdOf("AWS::DynamoDB::GlobalTable", "security"), "StreamArn"],
        }),
      ),
    );
    expect(securityStream).toHaveLength(1);
    expect(securityStream[0]).toContain("ORG#*#DETECT");
    expect(securityStream[0]).not.toContain(logicalIdOf("AWS::DynamoDB::GlobalTable", "directory"));
  });
});

describe("review fixes to settings and security events (issue 11)", () => {
  const policyDocumentOf = (functionId: string) => {
    const [, policy] =
      Object.entries(template.findResources("AWS::IAM::ManagedPolicy")).find(([id]) =>
        id.includes(`${functionId}Policy`),
      ) ?? [];
    return (policy as { Properties: any }).Properties.PolicyDocument;
  };

  it("PATCH /settings puts org documents only (ORG#*), never the platform default", () => {
    const statements = policyDocumentOf("updateSettings").Statement as any[];
    const puts = statements.filter(
      (s) =>
        [s.Action].flat().includes("dynamodb:PutItem") &&
        JSON.stringify(s.Resource).includes(logicalIdOf("AWS::DynamoDB::GlobalTable", "settings")),
    );
    expect(puts).toEqual([
      expect.objectContaining({
        Action: "dynamodb:PutItem",
        Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["ORG#*"] } },
      }),
    ]);
  });
});

describe("compliance reports (issue 12): the schedule, the job's role, the bucket", () => {
  const policyOf = (functionId: string) => {
    const [, policy] =
      Object.entries(template.findResources("AWS::IAM::ManagedPolicy")).find(([id]) =>
        id.includes(`${functionId}Policy`),
      ) ?? [];
    return (policy as { Properties: any }).Properties.PolicyDocument.Statement as any[];
  };
  const actionsOn = (statements: any[], fragment: string) =>
    statements
      .filter((statement) => JSON.stringify(statement.Resource).includes(fragment))
      .flatMap((statement) => [statement.Action].flat())
      .sort();
  const reportsBucketId = () => logicalIdOf("AWS::S3::Bucket", "reportsBucket");
  const reportsTableId = () => logicalIdOf("AWS::DynamoDB::GlobalTable", "reportsTable");

  it("the reports bucket: Object Lock in compliance mode for 6 years (§164.316(b)(2)), versioned, KMS, retained", () => {
    const [, bucket] = Object.entries(template.findResources("AWS::S3::Bucket")).find(
      ([id]) => id === reportsBucketId(),
    ) as [string, { Properties: any; DeletionPolicy: string }];
    expect(bucket.Properties.ObjectLockEnabled).toBe(true);
    expect(bucket.Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({
      Mode: "COMPLIANCE",
      Days: 2192, // 6 years, leap days included
    });
    expect(bucket.Properties.VersioningConfiguration.Status).toBe("Enabled");
    expect(bucket.DeletionPolicy).toBe("Retain");
    const [table] = resources("AWS::DynamoDB::GlobalTable").filter((t) =>
      JSON.stringify(t.Properties.KeySchema).includes('"pk"'),
    );
    expect(table).toBeDefined();
  });

  it("an hourly schedule runs the scheduler alone; it may start report jobs and record pending reports, never sign or write a report", () => {
    const rule = resources("AWS::Events::Rule").find(
      (candidate) => candidate.Properties.Description === jobs.scheduleReports.summary,
    );
    expect(rule?.Properties.ScheduleExpression).toBe("rate(1 hour)");
    const targetId = rule?.Properties.Targets[0].Arn["Fn::GetAtt"][0];
    const fn = template.findResources("AWS::Lambda::Function")[targetId] as { Properties: any };
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    const statements = policyOf("scheduleReports");
    const all = JSON.stringify(statements);
    expect(all).not.toContain("kms:Sign");
    expect(all).not.toContain("s3:PutObject");
    expect(actionsOn(statements, reportsTableId())).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    const invokes = statements.filter((statement) =>
      [statement.Action].flat().includes("lambda:InvokeFunction"),
    );
    expect(JSON.stringify(invokes)).toContain("coachvault-test-complianceReport");
    expect(invokes.flatMap((statement) => [statement.Resource].flat())).toHaveLength(1);
  });

  it("the report job's role: Sign with the audit signing key, new objects in the reports bucket only (no delete), its table, the audit append, the alarm topic, reads for its checks", () => {
    const statements = policyOf("complianceReport");
    const signing = statements.filter((statement) => [statement.Action].flat().includes("kms:Sign"));
    expect(signing).toHaveLength(1);
    expect(JSON.stringify(signing[0].Resource)).toContain(logicalIdOf("AWS::KMS::Key", "AuditSigning"));
    // Besides its objects, the bucket's configuration, read by the infrastructure checks (compliance:inspect).
    const configurationReads = [
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketVersioning",
      "s3:GetEncryptionConfiguration",
    ];
    expect(actionsOn(statements, reportsBucketId())).toEqual(
      [...configurationReads, "s3:GetObject", "s3:PutObject", "s3:PutObjectRetention"].sort(),
    );
    const all = JSON.stringify(statements);
    expect(all).not.toMatch(/s3:Delete|s3:PutBucket|s3:BypassGovernanceRetention/);
    // A client's data key only to decrypt, under a client's encryption context: the key check opens a sample
    // of records (after an audit entry naming them), never anything else.
    const dataKey = logicalIdOf("AWS::KMS::Key", "KeysData") as string;
    const onDataKey = statements.filter((statement) => JSON.stringify(statement.Resource).includes(dataKey));
    expect(onDataKey.map((statement) => statement.Action)).toEqual([
      "kms:Decrypt",
      ["kms:DescribeKey", "kms:GetKeyRotationStatus"], // its configuration, for the rotation check
    ]);
    expect(onDataKey[0].Condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]).toEqual([
      "orgId",
      "clientId",
    ]);
    // The checkpoints (to verify the chain from the latest one) only read.
    expect(actionsOn(statements, logicalIdOf("AWS::S3::Bucket", "checkpointsBucket") as string)).toEqual(
      [
        ...configurationReads,
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:ListBucketVersions",
      ].sort(),
    );
    expect(actionsOn(statements, reportsTableId())).toEqual([
      "dynamodb:ConditionCheckItem",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]);
    expect(all).toContain("sns:Publish");
    // Started (by POST /reports and the scheduler) only: no schedule of its own.
    expect(
      resources("AWS::Events::Rule").some(
        (rule) => rule.Properties.Description === jobs.complianceReport.summary,
      ),
    ).toBe(false);
  });

  it("the report routes: reading ones read, POST /reports records and starts, none signs or writes a report's objects", () => {
    for (const id of ["listReports", "getReport", "getReportHtml", "requestReport"]) {
      const all = JSON.stringify(policyOf(id));
      expect(all, id).not.toContain("kms:Sign");
      expect(all, id).not.toContain("s3:PutObject");
    }
    expect(JSON.stringify(policyOf("listReports"))).not.toContain(reportsBucketId());
    expect(actionsOn(policyOf("requestReport"), reportsTableId())).toEqual([
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]);
    expect(routes.getReportHtml.document?.contentSecurityPolicy).toMatch(/^default-src 'none';/);
  });
});

describe("compliance:inspect: what the infrastructure checks read in the cloud (issue 12)", () => {
  it("the stateful stack hands over the trail and backups keys and the backup vault", () => {
    const exports = Object.values(
      stateful.toJSON().Outputs as Record<string, { Export?: { Name: string } }>,
    ).map((output) => output.Export?.Name);
    for (const name of ["keys-trail", "keys-backups", "backupVault-name", "backupVault-arn"])
      expect(exports).toContain(`coachvault-test-${name}`);
  });

  it("the jobs' inspection targets are this stage's resources: keys, trail, API stage, web ACLs, vault, log groups", () => {
    const resolve = (value: unknown) => JSON.stringify(built.stateless.resolve(value));
    const inspection = built.stateless.inspection;
    for (const [purpose, keyArn] of Object.entries(inspection.keyArns))
      expect(resolve(keyArn)).toContain(`coachvault-test-keys-${purpose}`);
    expect(resolve(inspection.backupVault.name)).toContain("coachvault-test-backupVault-name");
    expect(resolve(inspection.trailArn)).toContain(":trail/coachvault-test");
    // The REST API's stage of this stack: `…/restapis/<api>/stages/<stage>`, the API by reference, the stage by
    // name (a reference to the stage resource would be a cycle: the stage waits for the jobs' deploy runs).
    const { restApi } = built.stateless.api;
    const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
      built.stateless.getLogicalId(construct.node.defaultChild as never);
    expect(resolve(inspection.apiStageArn)).toMatch(
      new RegExp(`:apigateway:us-east-1::/restapis/",\\{"Ref":"${logicalId(restApi)}"\\},"/stages/test"`),
    );
    // The two web ACLs themselves (no wildcard): the API's and the user pool's.
    const acls = inspection.webAclArns.map(resolve);
    expect(acls).toHaveLength(2);
    for (const acl of acls) expect(acl).toMatch(/^\{"Fn::GetAtt":\[".*Waf.*","Arn"\]\}$/);
    expect(Object.keys(inspection.buckets).sort()).toEqual(Object.keys(BUCKETS).sort());
    expect(inspection.logGroupPrefixes.slice(0, 4)).toEqual([
      "CoachVault-test-Stateful-",
      "/aws/lambda/CoachVault-test-Stateful-",
      "CoachVault-test-Stateless-",
      "/aws/lambda/CoachVault-test-Stateless-",
    ]);
    expect(inspection.logRetentionDays).toBeGreaterThanOrEqual(90);
  });
});
