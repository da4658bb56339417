import { ArnFormat, Stack, type StackProps } from "aws-cdk-lib";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { jobList } from "../../functions/jobs";
import { routeList } from "../../functions/routes";
import { functionEnvironment, resourceName } from "../resources";
import { Api } from "./api";
import { Auth } from "./auth";
import { customResourceLogs } from "./custom-resource-logs";
import { Data } from "./data";
import type { FunctionDefaults } from "./functions";
import { Jobs } from "./jobs";
import { Keys } from "./keys";
import { lifecycleOf } from "./lifecycle";
import { Monitoring } from "./monitoring";
import { Network } from "./network";
import { servicesOf } from "./permissions";
import type { StageSettings } from "./settings";
import { AccountTrail } from "./trail";

/** CoachVault for one stage: keys, data, users, the API built from the route manifest, alarms. */
export class CoachVaultStack extends Stack {
  readonly api: Api;
  readonly data: Data;
  readonly auth: Auth;
  readonly keys: Keys;
  readonly jobs: Jobs;
  readonly trail: AccountTrail;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, settings: StageSettings, props?: StackProps) {
    super(scope, id, props);
    const logRetention = settings.logRetentionDays as RetentionDays;
    const lifecycle = lifecycleOf(settings);
    this.keys = new Keys(this, "Keys", { stage: settings.stage, lifecycle });
    this.data = new Data(this, "Data", {
      storageKey: this.keys.storage,
      backupKey: this.keys.backups,
      checkpointRetentionDays: settings.auditRetentionDays,
      lifecycle,
      backupVaultLock: settings.backupVaultLock,
      replication: settings.replication,
    });
    this.auth = new Auth(this, "Auth", {
      stage: settings.stage,
      lifecycle,
      sesFromAddress: settings.sesFromAddress,
    });
    const network = settings.useVpc
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
            userPoolArn: this.auth.userPool.userPoolArn,
          },
        })
      : undefined;
    const functionDefaults: FunctionDefaults = {
      logsKey: this.keys.logs,
      logRetention,
      logRemoval: lifecycle.removalPolicy,
      permissions: {
        tables: this.data.tables,
        dataKey: this.keys.data,
        storageKey: this.keys.storage,
        region: this.region,
        userPoolArn: this.auth.userPool.userPoolArn,
        transcriptsBucket: this.data.buckets.transcripts,
        checkpointsBucket: this.data.buckets.checkpoints,
        signingKey: this.keys.auditSigning,
        retiredSigningKeyArns: settings.retiredSigningKeyArns,
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
          tables: {
            records: this.data.tables.records.tableName,
            directory: this.data.tables.directory.tableName,
            keys: this.data.tables.keys.tableName,
            audit: this.data.tables.audit.tableName,
            witness: this.data.tables.witness.tableName,
          },
          buckets: {
            transcripts: this.data.buckets.transcripts.bucketName,
            checkpoints: this.data.buckets.checkpoints.bucketName,
          },
          kmsDataKeyId: this.keys.data.keyArn,
          kmsAuditSigningKeyId: this.keys.auditSigning.keyArn,
          userPoolId: this.auth.userPool.userPoolId,
          userPoolClientId: this.auth.appClient.userPoolClientId,
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
      userPool: this.auth.userPool,
      allowedOrigins: settings.allowedOrigins,
    });
    this.jobs = new Jobs(this, "Jobs", { ...functionDefaults, stage: settings.stage, jobs: jobList });
    // No stage serves before what the deploy-time jobs provide (the token keys) exists.
    this.api.restApi.deploymentStage.node.addDependency(...this.jobs.deployRuns);
    // Alarms and log filters are per function id: a job named like a route would silently take its place.
    const shared = Object.keys(this.jobs.functions).filter((id) => id in this.api.functions);
    if (shared.length > 0) throw new Error(`jobs and routes share ids: ${shared.join(", ")}`);
    this.monitoring = new Monitoring(this, "Monitoring", {
      stage: settings.stage,
      webAclName: this.api.webAclName,
      alarmEmail: settings.alarmEmail,
      logsKey: this.keys.logs,
      api: this.api.restApi,
      functions: { ...this.api.functions, ...this.jobs.functions },
      failureQueues: this.jobs.failureQueues,
    });
    this.data.alarmBackupFailures(this.monitoring.topic);
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
      alarmTopic: this.monitoring.topic,
    });
    customResourceLogs(this, { logsKey: this.keys.logs, logRetention, logRemoval: lifecycle.removalPolicy });
  }
}
