import { ArnFormat, CfnOutput, Fn, Stack, type StackProps } from "aws-cdk-lib";
import { UserPool } from "aws-cdk-lib/aws-cognito";
import { type ITableV2, TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { SecurityGroup, Vpc } from "aws-cdk-lib/aws-ec2";
import { Key } from "aws-cdk-lib/aws-kms";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Bucket, type IBucket } from "aws-cdk-lib/aws-s3";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { Construct } from "constructs";
import { jobList } from "../../functions/jobs";
import { routeList } from "../../functions/routes";
import { type BucketName, functionEnvironment, resourceName, TABLES, type TableName } from "../resources";
import { Api } from "./api";
import { Auth, SignInProtection } from "./auth";
import { customResourceLogs } from "./custom-resource-logs";
import { Data } from "./data";
import type { FunctionDefaults } from "./functions";
import { type Handover, HandoverExports, importHandover } from "./handover";
import { Jobs } from "./jobs";
import { Keys, stageLogGroupPrefixes } from "./keys";
import { lifecycleOf } from "./lifecycle";
import { Monitoring } from "./monitoring";
import { Network } from "./network";
import { type InspectionTargets, servicesOf } from "./permissions";
import type { StageSettings } from "./settings";
import { AccountTrail } from "./trail";

/**
 * `CoachVault-<stage>-Stateful`: what holds data or identity and rarely changes. Keys, tables, buckets, the
 * user pool, the CloudTrail trail and its alarms, the alarm topic (so a redeployed API never needs the
 * email subscription confirmed again) and the network (the flow logs write to the access-log bucket here,
 * the endpoints serve these resources, and the stateless stack can be deleted and redeployed without
 * waiting for a VPC's Lambda network interfaces to drain). It references nothing of the stateless stack;
 * it hands its values over as fixed-name exports (handover.ts).
 */
export class StatefulStack extends Stack {
  readonly data: Data;
  readonly auth: Auth;
  readonly keys: Keys;
  readonly network?: Network;
  readonly trail: AccountTrail;
  readonly alarmTopic: Topic;
  readonly handover: Handover;

  constructor(scope: Construct, id: string, settings: StageSettings, props?: StackProps) {
    super(scope, id, props);
    const logRetention = settings.logRetentionDays as RetentionDays;
    const lifecycle = lifecycleOf(settings);
    this.keys = new Keys(this, "Keys", { stage: settings.stage, lifecycle });
    this.data = new Data(this, "Data", {
      storageKey: this.keys.storage,
      backupKey: this.keys.backups,
      auditRetentionDays: settings.auditRetentionDays,
      lifecycle,
      backupVaultLock: settings.backupVaultLock,
      replication: settings.replication,
    });
    this.auth = new Auth(this, "Auth", {
      stage: settings.stage,
      lifecycle,
      sesFromAddress: settings.sesFromAddress,
      logs: { removal: lifecycle.removalPolicy },
    });
    // Before the network: its SNS endpoint's policy names the topic.
    this.alarmTopic = new Topic(this, "Alarms", { masterKey: this.keys.logs, enforceSSL: true });
    this.alarmTopic.addSubscription(new EmailSubscription(settings.alarmEmail));
    this.network = settings.useVpc
      ? new Network(this, "Network", {
          flowLogBucket: this.data.accessLogs,
          services: new Set([...routeList, ...jobList].flatMap((fn) => fn.permissions.flatMap(servicesOf))),
          scope: {
            stage: settings.stage,
            tableArns: Object.values(this.data.tables).map((table) => table.tableArn),
            buckets: Object.values(this.data.buckets),
            keyArns: [
              this.keys.data.keyArn,
              this.keys.storage.keyArn,
              this.keys.auditSigning.keyArn,
              ...settings.retiredSigningKeyArns,
            ],
            // Keys the functions never use, whose configuration the compliance report reads.
            inspectedKeyArns: [this.keys.logs.keyArn, this.keys.trail.keyArn, this.keys.backups.keyArn],
            userPoolArn: this.auth.userPool.userPoolArn,
            alarmTopicArn: this.alarmTopic.topicArn,
          },
        })
      : undefined;
    this.data.alarmBackupFailures(this.alarmTopic);
    this.trail = new AccountTrail(this, "CloudTrail", {
      stage: settings.stage,
      mode: settings.trail,
      ...(settings.organizationTrailArn && { organizationTrailArn: settings.organizationTrailArn }),
      lifecycle,
      trailKey: this.keys.trail,
      logsKey: this.keys.logs,
      logRetention,
      retentionDays: settings.auditRetentionDays,
      accessLogs: this.data.accessLogs,
      ...(this.data.replication && { replication: this.data.replication }),
      phiBuckets: [this.data.buckets.transcripts, this.data.buckets.checkpoints],
      phiTables: Object.values(this.data.tables),
      auditTable: this.data.tables.audit,
      alarmTopic: this.alarmTopic,
    });

    const mapValues = <K extends string, V, R>(record: Record<K, V>, fn: (value: V) => R) =>
      Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value as V)])) as Record<K, R>;
    this.handover = {
      // A stream ARN only for a table the resources declare a stream on: CDK's `tableStreamArn` is a token on
      // every table, and exporting it for one without a stream would fail the deploy.
      tables: Object.fromEntries(
        Object.entries(this.data.tables).map(([name, table]) => [
          name,
          {
            name: table.tableName,
            arn: table.tableArn,
            ...("stream" in TABLES[name as TableName] && { streamArn: table.tableStreamArn as string }),
          },
        ]),
      ) as Handover["tables"],
      buckets: mapValues(this.data.buckets, (bucket) => ({ name: bucket.bucketName, arn: bucket.bucketArn })),
      keys: {
        data: this.keys.data.keyArn,
        storage: this.keys.storage.keyArn,
        logs: this.keys.logs.keyArn,
        auditSigning: this.keys.auditSigning.keyArn,
        trail: this.keys.trail.keyArn,
        backups: this.keys.backups.keyArn,
      },
      backupVault: { name: this.data.vault.backupVaultName, arn: this.data.vault.backupVaultArn },
      userPool: {
        id: this.auth.userPool.userPoolId,
        arn: this.auth.userPool.userPoolArn,
        clientId: this.auth.appClient.userPoolClientId,
      },
      alarmTopicArn: this.alarmTopic.topicArn,
      logs: { userAuthEvents: this.auth.authEvents.logGroupName },
      ...(this.network && {
        network: {
          vpcId: this.network.vpc.vpcId,
          availabilityZones: this.network.vpc.isolatedSubnets.map((subnet) => subnet.availabilityZone),
          isolatedSubnetIds: this.network.vpc.isolatedSubnets.map((subnet) => subnet.subnetId),
          isolatedSubnetRouteTableIds: this.network.vpc.isolatedSubnets.map(
            (subnet) => subnet.routeTable.routeTableId,
          ),
          securityGroupId: this.network.functionsSecurityGroup.securityGroupId,
        },
      }),
    };
    new HandoverExports(this, "Handover", settings.stage, this.handover);
    // What operators and the smoke test read (by OutputKey).
    new CfnOutput(this, "UserPoolId", { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, "UserPoolClientId", { value: this.auth.appClient.userPoolClientId });
    new CfnOutput(this, "AlarmTopicArn", { value: this.alarmTopic.topicArn });
    customResourceLogs(this, { logsKey: this.keys.logs, logRetention, logRemoval: lifecycle.removalPolicy });
  }

  /**
   * The network's two availability zones, chosen by CloudFormation at deploy time (`Fn::GetAZs`) rather than
   * looked up in the account at synth time: a stage with a pinned account synthesizes offline.
   */
  override get availabilityZones(): string[] {
    return [0, 1].map((index) => Fn.select(index, Fn.getAzs()));
  }
}

/**
 * `CoachVault-<stage>-Stateless`: the API built from the route manifest, the jobs, WAF and the alarms on
 * them. Everything here can be destroyed and redeployed: it holds no data. It reads the stateful stack's
 * resources through the handover only (imported by ARN, so no grant here can reach into a key, bucket or
 * table policy of the other stack), and deploys after it.
 */
export class StatelessStack extends Stack {
  readonly api: Api;
  readonly jobs: Jobs;
  readonly monitoring: Monitoring;
  /** What `compliance:inspect` reads (the jobs holding it get these resources' read actions and names). */
  readonly inspection: InspectionTargets;

  constructor(scope: Construct, id: string, settings: StageSettings, stateful: Handover, props?: StackProps) {
    super(scope, id, props);
    const handover = importHandover(settings.stage, stateful);
    const key = (name: string, arn: string) => Key.fromKeyArn(this, `${name}Key`, arn);
    const keys = {
      data: key("Data", handover.keys.data),
      storage: key("Storage", handover.keys.storage),
      logs: key("Logs", handover.keys.logs),
      auditSigning: key("AuditSigning", handover.keys.auditSigning),
    };
    const tables = Object.fromEntries(
      Object.entries(handover.tables).map(([name, table]) => [
        name,
        TableV2.fromTableAttributes(this, `${name}Table`, {
          tableArn: table.arn,
          ...(table.streamArn && { tableStreamArn: table.streamArn }),
        }),
      ]),
    ) as Record<TableName, ITableV2>;
    const buckets = Object.fromEntries(
      Object.entries(handover.buckets).map(([name, bucket]) => [
        name,
        Bucket.fromBucketAttributes(this, `${name}Bucket`, {
          bucketArn: bucket.arn,
          bucketName: bucket.name,
        }),
      ]),
    ) as Record<BucketName, IBucket>;
    const network = handover.network && {
      vpc: Vpc.fromVpcAttributes(this, "Vpc", {
        vpcId: handover.network.vpcId,
        availabilityZones: handover.network.availabilityZones,
        isolatedSubnetIds: handover.network.isolatedSubnetIds,
        isolatedSubnetRouteTableIds: handover.network.isolatedSubnetRouteTableIds,
      }),
      functionsSecurityGroup: SecurityGroup.fromSecurityGroupId(
        this,
        "FunctionsSecurityGroup",
        handover.network.securityGroupId,
        { mutable: false },
      ),
    };
    const logRetention = settings.logRetentionDays as RetentionDays;
    const logRemoval = lifecycleOf(settings).removalPolicy;
    const functionDefaults: FunctionDefaults = {
      logsKey: keys.logs,
      logRetention,
      logRemoval,
      permissions: {
        tables,
        dataKey: keys.data,
        storageKey: keys.storage,
        region: this.region,
        userPoolArn: handover.userPool.arn,
        transcriptsBucket: buckets.transcripts,
        checkpointsBucket: buckets.checkpoints,
        reportsBucket: buckets.reports,
        signingKey: keys.auditSigning,
        retiredSigningKeyArns: settings.retiredSigningKeyArns,
        alarmTopicArn: handover.alarmTopicArn,
        alarmTopicKey: keys.logs,
        jobFunctionArn: (jobId) =>
          this.formatArn({
            service: "lambda",
            resource: "function",
            resourceName: resourceName(settings.stage, jobId),
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
      },
      environment: {
        ...functionEnvironment({
          stage: settings.stage,
          tables: Object.fromEntries(
            Object.entries(handover.tables).map(([name, table]) => [name, table.name]),
          ) as Record<TableName, string>,
          buckets: {
            transcripts: handover.buckets.transcripts.name,
            checkpoints: handover.buckets.checkpoints.name,
            reports: handover.buckets.reports.name,
          },
          kmsDataKeyId: handover.keys.data,
          kmsAuditSigningKeyId: handover.keys.auditSigning,
          userPoolId: handover.userPool.id,
          userPoolClientId: handover.userPool.clientId,
          allowedOrigins: settings.allowedOrigins,
        }),
        AUDIT_SHARDS: String(settings.auditShards),
        CHECKPOINT_RETENTION_DAYS: String(settings.auditRetentionDays),
        ...(settings.retiredSigningKeyArns.length > 0 && {
          KMS_AUDIT_RETIRED_SIGNING_KEY_IDS: settings.retiredSigningKeyArns.join(","),
        }),
      },
      ...(network && { network }),
    };
    this.api = new Api(this, "Api", {
      ...functionDefaults,
      stage: settings.stage,
      routes: routeList,
      userPool: UserPool.fromUserPoolArn(this, "Users", handover.userPool.arn),
      allowedOrigins: settings.allowedOrigins,
      reserveConcurrency: settings.reservedConcurrency,
    });
    const signIn = new SignInProtection(this, "SignIn", {
      stage: settings.stage,
      userPoolArn: handover.userPool.arn,
      logsKey: keys.logs,
      logRetention,
      logRemoval,
    });
    this.inspection = this.inspectionTargets(settings, handover, buckets, signIn.webAclArn);
    this.jobs = new Jobs(this, "Jobs", {
      ...functionDefaults,
      // Jobs only: the API stage they inspect is built from the routes (a route holding it would be a cycle).
      permissions: { ...functionDefaults.permissions, inspection: this.inspection },
      stage: settings.stage,
      jobs: jobList,
      logSources: {
        apiAccess: this.api.accessLogs,
        userAuthEvents: LogGroup.fromLogGroupName(this, "UserAuthEvents", handover.logs.userAuthEvents),
      },
    });
    // No stage serves before what the deploy-time jobs provide (the token keys) exists.
    this.api.restApi.deploymentStage.node.addDependency(...this.jobs.deployRuns);
    // Alarms and log filters are per function id: a job named like a route would silently take its place.
    const shared = Object.keys(this.jobs.functions).filter((id) => id in this.api.functions);
    if (shared.length > 0) throw new Error(`jobs and routes share ids: ${shared.join(", ")}`);
    this.monitoring = new Monitoring(this, "Monitoring", {
      stage: settings.stage,
      webAclName: this.api.webAclName,
      topic: Topic.fromTopicArn(this, "Alarms", handover.alarmTopicArn),
      api: this.api.restApi,
      functions: { ...this.api.functions, ...this.jobs.functions },
      failureQueues: this.jobs.failureQueues,
    });
    // One output for the API's address, under the name operators and the smoke test read (not RestApi's own).
    this.api.restApi.node.tryRemoveChild("Endpoint");
    new CfnOutput(this, "ApiUrl", { value: this.api.restApi.url });
    customResourceLogs(this, { logsKey: keys.logs, logRetention, logRemoval });
  }

  /** What the compliance report's infrastructure checks read (`compliance:inspect`): this stage's resources. */
  private inspectionTargets(
    settings: StageSettings,
    handover: Handover,
    buckets: Record<BucketName, IBucket>,
    signInWebAclArn: string,
  ): InspectionTargets {
    return {
      keyArns: handover.keys,
      trailArn:
        settings.trail === "organization" && settings.organizationTrailArn
          ? settings.organizationTrailArn
          : this.formatArn({
              service: "cloudtrail",
              resource: "trail",
              resourceName: `coachvault-${settings.stage}`,
            }),
      // From the API's id and the stage's name, not the stage resource: the stage depends on the jobs (their
      // deploy-time runs), so a job's setting that referenced the stage would be a cycle.
      apiStageArn: this.formatArn({
        service: "apigateway",
        account: "",
        resource: "/restapis",
        resourceName: `${this.api.restApi.restApiId}/stages/${settings.stage}`,
      }),
      userPoolArn: handover.userPool.arn,
      webAclArns: [this.api.webAclArn, signInWebAclArn],
      backupVault: handover.backupVault,
      buckets,
      logGroupPrefixes: stageLogGroupPrefixes(settings.stage, this.api.restApi.restApiId),
      logRetentionDays: settings.logRetentionDays,
      alarmTopicArn: handover.alarmTopicArn,
    };
  }
}
