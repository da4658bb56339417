import { App, RemovalPolicy, Stack } from "aws-cdk-lib";
import { TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Key } from "aws-cdk-lib/aws-kms";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config";
import { FUNCTION_ENV } from "../../test/support/function-env";
import { TABLES, type TableName } from "../resources";
import { bundledFunction, type FunctionDefaults, permissionEnvironment } from "./functions";
import {
  INSPECTION_ACTIONS,
  type InspectionTargets,
  inspectionEnvironment,
  type PermissionTargets,
  statementsFor,
} from "./permissions";

/** `compliance:inspect`: exactly the read-only actions the checks call, on the stage's resources; its settings. */
const ACCOUNT = "111122223333";
const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:${ACCOUNT}:${resource}`;

function targets(stack: Stack, withReports = true): PermissionTargets {
  const tables = Object.fromEntries(
    Object.keys(TABLES).map((name) => [
      name,
      TableV2.fromTableArn(stack, `${name}Table`, arn("dynamodb", `table/t-${name}`)),
    ]),
  ) as Record<TableName, TableV2>;
  const bucket = (name: string) => Bucket.fromBucketName(stack, `${name}Bucket`, `b-${name}`);
  const inspection: InspectionTargets = {
    keyArns: {
      data: arn("kms", "key/data"),
      storage: arn("kms", "key/storage"),
      logs: arn("kms", "key/logs"),
      trail: arn("kms", "key/trail"),
      backups: arn("kms", "key/backups"),
      auditSigning: arn("kms", "key/signing"),
    },
    trailArn: arn("cloudtrail", "trail/coachvault-prod"),
    apiStageArn: "arn:aws:apigateway:us-east-1::/restapis/abc123/stages/prod",
    userPoolArn: arn("cognito-idp", "userpool/us-east-1_pool"),
    webAclArns: [
      arn("wafv2", "regional/webacl/coachvault-prod/*"),
      arn("wafv2", "regional/webacl/coachvault-prod-sign-in/*"),
    ],
    backupVault: {
      name: "coachvault-0123456789ab",
      arn: arn("backup", "backup-vault:coachvault-0123456789ab"),
    },
    buckets: {
      transcripts: bucket("transcripts"),
      checkpoints: bucket("checkpoints"),
      ...(withReports && { reports: bucket("reports") }),
    },
    logGroupPrefixes: ["CoachVault-prod-Stateful-", "CoachVault-prod-Stateless-"],
    logRetentionDays: 365,
    alarmTopicArn: arn("sns", "alarms"),
  };
  return {
    tables,
    alarmTopicArn: inspection.alarmTopicArn,
    inspection,
  } as unknown as PermissionTargets;
}

type Statement = { Effect: string; Action: string | string[]; Resource: string | string[] };
const statementsJson = (stack: Stack, permissionTargets: PermissionTargets) =>
  statementsFor("compliance:inspect", permissionTargets, { handler: "jobs/report" }).map(
    (statement) => stack.resolve(statement.toStatementJson()) as Statement,
  );

describe("compliance:inspect", () => {
  it("grants only Describe/Get actions, each on named resources of the stage, never '*'", () => {
    const stack = new Stack(new App(), "Inspect");
    const statements = statementsJson(stack, targets(stack));
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions.sort()).toEqual(Object.values(INSPECTION_ACTIONS).flat().sort());
    // Read-only: Describe*/Get* (API Gateway names its reads by HTTP verb: GET).
    for (const action of actions) expect(action).toMatch(/:(Describe|Get|GET$)/);
    for (const statement of statements) {
      expect(statement.Effect).toBe("Allow");
      for (const resource of [statement.Resource].flat()) expect(resource).not.toBe("*");
    }
    const on = (action: string) =>
      statements
        .filter((statement) => [statement.Action].flat().includes(action))
        .flatMap((s) => [s.Resource].flat());
    expect(on("kms:GetKeyRotationStatus").sort()).toEqual(
      ["backups", "data", "logs", "signing", "storage", "trail"]
        .map((key) => arn("kms", `key/${key}`))
        .sort(),
    );
    expect(on("dynamodb:DescribeTable")).toHaveLength(Object.keys(TABLES).length);
    expect(JSON.stringify(on("s3:GetBucketObjectLockConfiguration"))).toEqual(
      JSON.stringify(
        ["transcripts", "checkpoints", "reports"].map((name) =>
          stack.resolve(`arn:${stack.partition}:s3:::b-${name}`),
        ),
      ),
    );
    expect(on("cloudtrail:GetTrailStatus")).toEqual([arn("cloudtrail", "trail/coachvault-prod")]);
    expect(on("wafv2:GetWebACLForResource")).toEqual([
      arn("wafv2", "regional/webacl/coachvault-prod/*"),
      arn("wafv2", "regional/webacl/coachvault-prod-sign-in/*"),
      "arn:aws:apigateway:us-east-1::/restapis/abc123/stages/prod",
      arn("cognito-idp", "userpool/us-east-1_pool"),
    ]);
    expect(on("sns:GetTopicAttributes")).toEqual([arn("sns", "alarms")]);
  });

  it("is refused for a function given no inspection targets (the routes)", () => {
    const stack = new Stack(new App(), "Routes");
    const { inspection: _none, ...routeTargets } = targets(stack);
    expect(() => statementsJson(stack, routeTargets as PermissionTargets)).toThrow(/jobs' permission/);
  });

  it("gives its holder every setting the checks read, parseable by shared/config; others get none of them", () => {
    const stack = new Stack(new App(), "Env");
    const permissionTargets = targets(stack);
    const environment = permissionEnvironment(["compliance:inspect", "settings:read"], permissionTargets);
    expect(environment).toEqual(inspectionEnvironment(permissionTargets.inspection as InspectionTargets));
    const config = parseConfig({
      ...FUNCTION_ENV,
      ...stack.resolve(environment),
    });
    expect(config).toMatchObject({
      INSPECT_KMS_STORAGE_KEY_ID: arn("kms", "key/storage"),
      INSPECT_KMS_TRAIL_KEY_ID: arn("kms", "key/trail"),
      INSPECT_TRAIL_ARN: arn("cloudtrail", "trail/coachvault-prod"),
      INSPECT_API_STAGE_ARN: "arn:aws:apigateway:us-east-1::/restapis/abc123/stages/prod",
      INSPECT_USER_POOL_ARN: arn("cognito-idp", "userpool/us-east-1_pool"),
      INSPECT_BACKUP_VAULT: "coachvault-0123456789ab",
      INSPECT_LOG_GROUP_PREFIXES: ["CoachVault-prod-Stateful-", "CoachVault-prod-Stateless-"],
      INSPECT_LOG_RETENTION_DAYS: 365,
      INSPECT_ALARM_TOPIC_ARN: arn("sns", "alarms"),
      BUCKET_REPORTS: "b-reports",
    });
    expect(permissionEnvironment(["settings:read", "security:read"], permissionTargets)).toEqual({});
    // Without a reports bucket, no BUCKET_REPORTS: the checks list it as not configured.
    expect(
      inspectionEnvironment(
        targets(new Stack(new App(), "NoReports"), false).inspection as InspectionTargets,
      ),
    ).not.toHaveProperty("BUCKET_REPORTS");
  });

  it("a function holding it gets the settings in its environment and the shared policy for ListBackupJobs and DescribeLogGroups", () => {
    const app = new App();
    const stack = new Stack(app, "Job");
    const defaults: FunctionDefaults = {
      environment: { STAGE: "prod" },
      logsKey: new Key(stack, "Logs"),
      logRetention: RetentionDays.ONE_YEAR,
      logRemoval: RemovalPolicy.DESTROY,
      permissions: targets(stack),
    };
    const { fn } = bundledFunction(
      stack,
      { id: "report", handler: "health/get", permissions: ["compliance:inspect"] },
      defaults,
    );
    const resources = app.synth().getStackByName("Job").template.Resources as Record<string, any>;
    const variables =
      resources[stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables;
    expect(variables).toMatchObject({ STAGE: "prod", INSPECT_BACKUP_VAULT: "coachvault-0123456789ab" });
    expect(Object.keys(variables)).not.toContain("ALARM_TOPIC_ARN");
    const shared = Object.values(resources).filter(
      (resource) =>
        resource.Type === "AWS::IAM::ManagedPolicy" &&
        JSON.stringify(resource.Properties.PolicyDocument).includes("backup:ListBackupJobs"),
    );
    expect(shared).toHaveLength(1);
    expect(shared[0].Properties.PolicyDocument.Statement).toEqual([
      { Effect: "Allow", Action: ["backup:ListBackupJobs", "logs:DescribeLogGroups"], Resource: "*" },
    ]);
  });
});
