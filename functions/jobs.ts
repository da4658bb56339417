import type { Permission } from "../shared/http/route";

/**
 * The job manifest: every function that runs without a request — on a schedule (EventBridge), or started
 * by a route or another job (`startJob`, an asynchronous Lambda invocation). The CDK app makes one
 * function, role and trigger per entry from the same permission vocabulary as routes; the local stack
 * serves the started ones behind its Lambda endpoint and runs the scheduled ones on command.
 */
export type JobTrigger =
  /** An EventBridge schedule expression. */
  | { schedule: string }
  /** Started by another function's `startJob(id, …)`, which needs the `jobs:start:<id>` permission. */
  | { started: true }
  /**
   * Every change to a table with a stream (`infra/resources.ts`), in batches of up to `batchSize` records
   * per shard, in order: a Lambda event source mapping in the cloud (failed records reported one by one,
   * a failing batch split and retried `retryAttempts` times, then sent to an encrypted queue), a poller
   * of the same stream locally (`infra/local/streams.ts`).
   */
  | { stream: "audit" | "security"; batchSize: number; retryAttempts: number; filter?: StreamFilter }
  /**
   * Lines of these log groups that a CloudWatch Logs subscription filter passes (cloud only: locally the
   * pipeline records what it sees itself, and nothing produces these logs).
   */
  | { logs: readonly LogSource[] };

/**
 * Which stream records reach a stream job (absent: all): the change kinds, and a prefix of the item's
 * sort key `sk`. In the cloud, the event source mapping's filter criteria (records filtered out are never
 * delivered, nor billed); locally, the poller applies the same test (`infra/local/streams.ts`).
 */
export type StreamFilter = { eventName?: readonly ("INSERT" | "MODIFY" | "REMOVE")[]; skPrefix?: string };

/** Log groups a job can subscribe to, and the filter pattern of each (infra/cloud/jobs.ts). */
export const LOG_SOURCES = {
  /** The API's access log: the 401s the Cognito authorizer answers before any function runs. */
  apiAccess: '{ $.status = "401" }',
  /** The user pool's exported user auth events (threat protection, Plus plan): failed sign-ins. */
  userAuthEvents: '{ ($.message.eventResponse = "Fail") || ($.eventResponse = "Fail") }',
} as const;
export type LogSource = keyof typeof LOG_SOURCES;

/**
 * How long a started job's event may wait in Lambda's queue for a free slot (the asynchronous invocation's
 * `maxEventAge`, at Lambda's maximum): after that it goes to the job's failure queue, unrun.
 */
export const STARTED_EVENT_MAX_AGE_HOURS = 6;

export type JobSpec = {
  /** Module under `functions/` exporting `handler` (named by trigger: `x.job.ts`). */
  handler: string;
  summary: string;
  trigger: JobTrigger;
  permissions: readonly Permission[];
  timeoutSeconds: number;
  /** The function's memory when it needs more than the default (512 MB). */
  memoryMb?: number;
  /** Runs at once at most (reserved concurrency); 1 by default, so two runs never race. */
  concurrency?: number;
  /**
   * `internet`: the function runs outside the VPC, with Lambda's own internet access, even when the
   * stage puts functions in isolated subnets (`useVpc`). Only for a job that must reach something no VPC
   * endpoint serves and that touches no PHI (the one today: fetching the pool's public JWKS).
   */
  network?: "internet";
  /**
   * Also run during every deploy that creates or changes the job (a CloudFormation custom resource served
   * by the job's own function: the deploy fails if the run does) and once when the local stack starts,
   * before it serves: for what must exist before the first request. The module's `createJob` passes the
   * same flag.
   */
  runOnDeploy?: true;
};

export const jobs = {
  auditCheckpoint: {
    handler: "audit/checkpoint.job",
    summary: "Sign a checkpoint of every registered org's audit chains that moved since its last one",
    trigger: { schedule: "rate(5 minutes)" },
    permissions: [
      "directory:read",
      "audit:read",
      "checkpoints:read",
      "checkpoints:write",
      "kms:sign-checkpoints",
      "witness:read",
    ],
    timeoutSeconds: 120,
  },
  processInvite: {
    handler: "users/process-invite.job",
    summary:
      "Create an invited account and its directory entry, or mark the invitation failed without saying why",
    trigger: { started: true },
    permissions: [
      "directory:read",
      "directory:write",
      "cognito:create-users",
      "cognito:sync-users",
      "audit:append",
    ],
    timeoutSeconds: 30,
    // Invitations are independent; each run is idempotent (conditional transitions), so runs may overlap.
    concurrency: 5,
  },
  identitySync: {
    handler: "users/identity-sync.job",
    summary:
      "Apply the directory's state (role group, enabled) to Cognito for every user still pending, and start again the job of invitations whose job never finished",
    trigger: { schedule: "rate(5 minutes)" },
    permissions: ["directory:read", "directory:write", "cognito:sync-users", "jobs:start:processInvite"],
    timeoutSeconds: 120,
  },
  auditWitness: {
    handler: "audit/witness.stream",
    summary:
      "The live witness: checks every new audit entry's hash and link, raises a security event on any change, removal or broken link, and records the chain heads it has seen",
    trigger: { stream: "audit", batchSize: 100, retryAttempts: 10 },
    permissions: ["audit:stream", "audit:read", "witness:write"],
    timeoutSeconds: 60,
    // One batch per stream shard at a time: enough for the shards of a busy audit table.
    concurrency: 10,
  },
  verifyAudit: {
    handler: "audit/verify.job",
    summary:
      "Verify an org's audit trail (chains, index attributes, disclosure pointers, signed checkpoints) a page at a time, starting itself again until done",
    trigger: { started: true },
    permissions: [
      "records:read",
      "audit:verification",
      "audit:read",
      "checkpoints:read",
      "kms:verify-checkpoints",
      "jobs:start:verifyAudit",
    ],
    timeoutSeconds: 300,
    concurrency: 2,
  },
  refreshTokenKeys: {
    handler: "auth/refresh-token-keys.job",
    summary:
      "Store the user pool's token keys (its JWKS, fetched from Cognito) where functions read them without internet",
    trigger: { schedule: "rate(5 minutes)" },
    permissions: ["auth:token-keys"],
    timeoutSeconds: 30,
    network: "internet",
    runOnDeploy: true,
  },
  verifyAuditDaily: {
    handler: "audit/verify-daily.job",
    summary:
      "Start a verification from genesis of every registered org's audit trail (checkpointed entries and disclosure pointers included); a trail not intact, or a verification that fails, is a security event",
    trigger: { schedule: "rate(1 day)" },
    permissions: [
      "directory:read",
      "records:read",
      "records:write",
      "audit:append",
      "jobs:start:verifyAudit",
    ],
    timeoutSeconds: 120,
  },
  securityReviews: {
    handler: "security/reviews.job",
    summary:
      "Raise a finding for every break-glass grant left unreviewed past its org's window, and publish the findings whose publish to the alarm topic failed",
    trigger: { schedule: "rate(15 minutes)" },
    permissions: ["directory:read", "records:read", "settings:read", "security:findings", "security:alert"],
    timeoutSeconds: 120,
  },
  logSignals: {
    handler: "security/log-signals.job",
    summary:
      "Record the API's gateway-answered 401s and the user pool's failed sign-ins, from their logs, as security signals (by IP and minute)",
    trigger: { logs: ["apiAccess", "userAuthEvents"] },
    permissions: ["security:signal"],
    timeoutSeconds: 60,
    // Log batches of both groups are independent and their signal ids are stable: runs may overlap.
    concurrency: 2,
  },
  detectAudit: {
    handler: "detection/audit.stream",
    summary:
      "The detectors over every new audit entry (excessive, after-hours and bulk access, break-glass, access by a disabled or blocked account): findings within seconds",
    // The audit table is append-only: new entries are the detectors' (changes are the witness's business).
    trigger: { stream: "audit", batchSize: 100, retryAttempts: 10, filter: { eventName: ["INSERT"] } },
    permissions: [
      "audit:stream",
      "security:detect",
      "security:findings",
      "security:alert",
      "settings:read",
      "directory:read",
    ],
    timeoutSeconds: 60,
    concurrency: 10,
  },
  detectSignals: {
    handler: "detection/signals.stream",
    summary:
      "The detectors over every new security signal (failed sign-ins and 401s, denials, blocks): findings within seconds",
    // New signals only: never the detectors' own state, findings, outbox items or TTL removals.
    trigger: {
      stream: "security",
      batchSize: 100,
      retryAttempts: 10,
      filter: { eventName: ["INSERT"], skPrefix: "SIGNAL#" },
    },
    permissions: [
      "security:stream",
      "security:detect",
      "security:findings",
      "security:alert",
      "settings:read",
    ],
    timeoutSeconds: 60,
    // The security table's stream has few shards (signals are rare next to audit entries).
    concurrency: 5,
  },
  complianceReport: {
    handler: "reports/produce.job",
    summary:
      "Produce one org's compliance report (checks, score, HTML), sign it with KMS, store it under Object Lock and append report.generated with its SHA-256 to the org's audit chain; notify a score drop or a newly failing critical check",
    trigger: { started: true },
    permissions: [
      "reports:read",
      "reports:write",
      "kms:sign-reports",
      "audit:append",
      "audit:read",
      "settings:read",
      "directory:read",
      "security:alert",
      // What the checks read: the audit trail from its latest signed checkpoint, the witness, the detectors
      // and findings, a sample of clients' records and transcripts (decrypted after an audit entry naming
      // them), users' accounts, and the stage's configuration (read-only).
      "witness:read",
      "checkpoints:read",
      "kms:verify-checkpoints",
      "security:read",
      "security:observe",
      "records:read",
      "keys:read-many",
      "kms:decrypt-data-key",
      "transcripts:read",
      "cognito:read-users",
      "compliance:inspect",
    ],
    timeoutSeconds: 300,
    // The period's trail is held in memory: 2 GB leaves room past the benchmark's peak (test/bench/report.bench.ts).
    memoryMb: 2048,
    // Reports of different orgs are independent; one report's runs are serialised by its row's conditions.
    concurrency: 2,
  },
  scheduleReports: {
    handler: "reports/schedule.job",
    summary:
      "Request and start the compliance report of every registered org whose report is due by its settings (daily by default, weekly or monthly), and start again a report that failed or stalled",
    trigger: { schedule: "rate(1 hour)" },
    permissions: [
      "directory:read",
      "settings:read",
      "reports:list",
      "reports:request",
      "jobs:start:complianceReport",
    ],
    timeoutSeconds: 120,
  },
} as const satisfies Record<string, JobSpec>;

export type JobId = keyof typeof jobs;
export const jobList: readonly (JobSpec & { id: string })[] = Object.entries(jobs).map(([id, spec]) => ({
  id,
  ...spec,
}));
