import { CustomResource, Duration, NestedStack, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { type ManagedPolicy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { type CfnFunction, FilterCriteria, FilterRule, StartingPosition } from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { FilterPattern, type ILogGroup, SubscriptionFilter } from "aws-cdk-lib/aws-logs";
import { LambdaDestination } from "aws-cdk-lib/aws-logs-destinations";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import {
  type JobSpec,
  LOG_SOURCES,
  type LogSource,
  STARTED_EVENT_MAX_AGE_HOURS,
  type StreamFilter,
} from "../../functions/jobs";
import { resourceName } from "../resources";
import { bundledFunction, type FunctionDefaults } from "./functions";

/**
 * The jobs of `functions/jobs.ts`: one function each, named `coachvault-<stage>-<id>` so that others can
 * start it by name, and for a scheduled one an EventBridge rule. A job runs with reserved concurrency 1
 * unless its entry says otherwise, so two runs never race (two checkpoint writers would both claim n+1).
 * Started jobs get Lambda's asynchronous retries (two) and an event age limit, and what Lambda gives up
 * on (a run that failed three times, or a start that waited too long behind the job's concurrency) goes
 * to the job's own KMS-encrypted queue as an on-failure destination (alarmed). A stream job gets an event
 * source mapping on its table's stream: from the oldest record kept (so a new deployment misses nothing),
 * failed records reported one by one, a failing batch split in two and retried, and what still fails
 * sent, as a record of the stream positions it held, to its own KMS-encrypted queue (alarmed).
 * A nested stack of the stateless stack, whose resource budget is kept for the routes.
 */
export class Jobs extends NestedStack {
  readonly functions: Record<string, NodejsFunction> = {};
  readonly policies: ManagedPolicy[] = [];
  /** Per started or stream job, the queue of what it gave up on: any message there alarms. */
  readonly failureQueues: Record<string, Queue> = {};
  /**
   * The deploy-time runs of `runOnDeploy` jobs: CloudFormation custom resources served by the job's own
   * function. What must exist before the first request (the API's stage) depends on them.
   */
  readonly deployRuns: CustomResource[] = [];

  constructor(
    scope: Construct,
    id: string,
    props: FunctionDefaults & {
      stage: string;
      jobs: readonly (JobSpec & { id: string })[];
      /** The log groups a `logs` job subscribes to. */
      logSources: Record<LogSource, ILogGroup>;
    },
  ) {
    super(scope, id);
    for (const job of props.jobs) {
      const { fn, policy } = bundledFunction(
        this,
        { ...job, concurrency: job.concurrency ?? 1, functionName: resourceName(props.stage, job.id) },
        props,
      );
      this.functions[job.id] = fn;
      this.policies.push(policy);
      if (job.runOnDeploy) {
        // Run again whenever the job's code or settings change (the first deploy creates it).
        const cfn = fn.node.defaultChild as CfnFunction;
        this.deployRuns.push(
          new CustomResource(this, `${job.id}OnDeploy`, {
            serviceToken: fn.functionArn,
            resourceType: "Custom::RunJobOnDeploy",
            // A run that never answers (say, killed mid-way) fails the deploy after this, not CloudFormation's hour.
            serviceTimeout: fn.timeout?.plus(Duration.minutes(1)) ?? Duration.minutes(5),
            properties: { job: job.id, code: cfn.code, environment: cfn.environment },
          }),
        );
      }
      if ("schedule" in job.trigger) {
        new Rule(this, `${job.id}Schedule`, {
          description: job.summary,
          schedule: Schedule.expression(job.trigger.schedule),
          // A run that fails is retried briefly; after that the next scheduled run picks the work up.
          targets: [new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(4) })],
        });
      } else if ("stream" in job.trigger) {
        const table = props.permissions.tables[job.trigger.stream];
        if (!table.tableStreamArn) throw new Error(`table ${job.trigger.stream} has no stream`);
        fn.addEventSourceMapping(`${job.id}Stream`, {
          eventSourceArn: table.tableStreamArn,
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: job.trigger.batchSize,
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          retryAttempts: job.trigger.retryAttempts,
          onFailure: new SqsDlq(this.failureQueue(job.id, policy, props)),
          ...(job.trigger.filter && { filters: [streamFilterCriteria(job.trigger.filter)] }),
        });
      } else {
        // CloudWatch Logs delivers to a subscribed function asynchronously: the same retries and queue.
        if ("logs" in job.trigger)
          for (const source of job.trigger.logs)
            new SubscriptionFilter(this, `${job.id}${source}Subscription`, {
              logGroup: props.logSources[source],
              destination: new LambdaDestination(fn),
              filterPattern: FilterPattern.literal(LOG_SOURCES[source]),
            });
        fn.configureAsyncInvoke({
          retryAttempts: 2,
          maxEventAge: Duration.hours(STARTED_EVENT_MAX_AGE_HOURS),
          onFailure: new SqsDestination(this.failureQueue(job.id, policy, props)),
        });
      }
    }
  }

  /** A job's queue of what it gave up on, and what its role needs to send there. */
  private failureQueue(jobId: string, policy: ManagedPolicy, props: FunctionDefaults): Queue {
    const queue = new Queue(this, `${jobId}Failures`, {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.logsKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.failureQueues[jobId] = queue;
    // The function's role is immutable (functions.ts): what the destination needs goes into its policy here.
    policy.addStatements(
      new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queueArn] }),
      new PolicyStatement({
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [props.logsKey.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `sqs.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    return queue;
  }
}

/** A job's stream filter as an event source mapping's filter pattern (Lambda event filtering's syntax). */
export function streamFilterCriteria(filter: StreamFilter) {
  return FilterCriteria.filter({
    ...(filter.eventName && { eventName: FilterRule.or(...filter.eventName) }),
    ...(filter.skPrefix && { dynamodb: { Keys: { sk: { S: FilterRule.beginsWith(filter.skPrefix) } } } }),
  });
}
