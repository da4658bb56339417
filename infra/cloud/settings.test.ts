import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { buildApp } from "./app";
import { readSettings } from "./settings";

/** Context as `cdk.json` gives it, with the command line's `-c` values on top. */
const cdkJson = JSON.parse(readFileSync("cdk.json", "utf8")).context as Record<string, unknown>;
const withContext = (given: Record<string, unknown>) => (key: string) => given[key] ?? cdkJson[key];

const prod = {
  account: "111122223333",
  region: "eu-west-1",
  alarmEmail: "security@prod.example",
  allowedOrigins: "https://app.prod.example",
  replication: {
    kmsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    buckets: {
      transcripts: "arn:aws:s3:::prod-replica-transcripts",
      checkpoints: "arn:aws:s3:::prod-replica-checkpoints",
      reports: "arn:aws:s3:::prod-replica-reports",
      accessLogs: "arn:aws:s3:::prod-replica-access-logs",
      cloudTrail: "arn:aws:s3:::prod-replica-cloudtrail",
    },
  },
};

describe("stage settings", () => {
  it("dev deploys from cdk.json's defaults alone", () => {
    expect(readSettings(withContext({}))).toMatchObject({
      stage: "dev",
      alarmEmail: "security@coachvault.example",
      useVpc: true,
      logRetentionDays: 365,
    });
  });

  it("any other stage must name its account, region, alarm address and origins: synth fails naming what is missing", () => {
    expect(() => readSettings(withContext({ stage: "prod" }))).toThrow(
      "Stage prod needs account, region, alarmEmail, allowedOrigins: set them under stages.prod in cdk.json or with -c key=value",
    );
    // dev's defaults never fill in for another stage.
    expect(() =>
      readSettings(withContext({ stage: "prod", account: "111122223333", region: "eu-west-1" })),
    ).toThrow("Stage prod needs alarmEmail, allowedOrigins");
  });

  it("takes a stage's settings from its entry under stages, the command line winning", () => {
    const stages = { ...(cdkJson.stages as object), prod };
    const settings = readSettings(withContext({ stage: "prod", stages, alarmEmail: "oncall@prod.example" }));
    expect(settings).toMatchObject({
      stage: "prod",
      account: "111122223333",
      region: "eu-west-1",
      alarmEmail: "oncall@prod.example",
      allowedOrigins: ["https://app.prod.example"],
    });
  });

  it("what protects data is safe unless the stage says otherwise: dev opts out in cdk.json, a stage that says nothing keeps everything", () => {
    expect(readSettings(withContext({ stage: "prod", ...prod }))).toMatchObject({
      removalPolicy: "retain",
      deletionProtection: true,
      objectLockMode: "COMPLIANCE",
      backupVaultLock: true,
      trail: "own",
    });
    expect(readSettings(withContext({}))).toMatchObject({
      removalPolicy: "destroy",
      deletionProtection: false,
      objectLockMode: "GOVERNANCE",
      backupVaultLock: false,
    });
    // Command-line values arrive as strings.
    expect(
      readSettings(withContext({ stage: "prod", ...prod, deletionProtection: "false", trail: "own" }))
        .deletionProtection,
    ).toBe(false);
    expect(() => readSettings(withContext({ stage: "prod", ...prod, objectLockMode: "NONE" }))).toThrow(
      /objectLockMode/,
    );
  });

  it("a stage may replicate its buckets to another region (given in cdk.json or as JSON with -c); without, the issue's required keys suffice", () => {
    const { replication, ...withoutReplication } = prod;
    expect(readSettings(withContext({ stage: "prod", ...withoutReplication })).replication).toBeUndefined();
    expect(
      readSettings(
        withContext({ stage: "prod", ...withoutReplication, replication: JSON.stringify(replication) }),
      ).replication,
    ).toEqual(replication);
    const { cloudTrail: _trail, ...noTrailBucket } = replication.buckets;
    expect(() =>
      readSettings(
        withContext({ stage: "prod", ...prod, replication: { ...replication, buckets: noTrailBucket } }),
      ),
    ).toThrow("Stage prod has its own trail: replication.buckets needs cloudTrail");
    // dev deletes its data with the stack: nothing to replicate.
    expect(readSettings(withContext({})).replication).toBeUndefined();
  });

  it("an organization trail must be named", () => {
    expect(() => readSettings(withContext({ stage: "prod", ...prod, trail: "organization" }))).toThrow(
      'Stage prod has trail "organization" and needs organizationTrailArn',
    );
    const arn = "arn:aws:cloudtrail:eu-west-1:999988887777:trail/org-trail";
    expect(
      readSettings(withContext({ stage: "prod", ...prod, trail: "organization", organizationTrailArn: arn })),
    ).toMatchObject({ trail: "organization", organizationTrailArn: arn });
  });

  it("pins the stack to the stage's account and region; credentials of another account are refused before anything is built", () => {
    const app = new App({ context: { stage: "prod", ...prod } });
    expect(() =>
      buildApp(app, { CDK_DEFAULT_ACCOUNT: "999999999999", CDK_DEFAULT_REGION: "us-east-1" }),
    ).toThrow("Stage prod deploys to account 111122223333, but the credentials are for 999999999999");
  });
});
