import { Duration, NestedStack, Stack } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { FilterPattern, MetricFilter } from "aws-cdk-lib/aws-logs";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { type JobId, jobList } from "../../functions/jobs";

/** Stream jobs fall behind their stream by at most this much before it alarms (records expire after 24 h). */
const MAX_ITERATOR_AGE_MS = 60_000;

/**
 * The namespace of the stack's own metrics (log filters): per stage, so two stages in one account never
 * add up into each other's alarms. AWS metrics carry the stage in their dimensions already (the API's
 * name, the web ACL's name, function and queue names).
 */
export const metricNamespace = (stage: string, area?: string) =>
  ["CoachVault", stage, area].filter(Boolean).join("/");

/** The checkpoint job runs every 5 minutes: three 5-minute periods without a run alarm (missing data too). */
export const HEARTBEAT = { job: "auditCheckpoint" satisfies JobId, periodMinutes: 5, periods: 3 } as const;

/**
 * Requests WAF blocked in 5 minutes before it alarms: scanners hit every public API now and then (those
 * blocks are logged, not alarmed); a burst is an attack, or a rule refusing real traffic.
 */
export const WAF_BLOCKS_THRESHOLD = 50;

/**
 * Alarms to the security mailbox: server errors, bursts of client errors, function errors and
 * throttles, every security event a function logs, and anything a stream or started job gave up on.
 * A nested stack of its own: a few resources per function (two alarms, a log filter) would otherwise
 * take the stateless stack past its resource budget; the stateless stack passes it names and ARNs.
 */
export class Monitoring extends NestedStack {
  constructor(
    scope: Construct,
    id: string,
    props: {
      stage: string;
      /** The API's web ACL (`waf.ts`): its blocks alarm. */
      webAclName: string;
      /** The stateful stack's alarm topic (its subscription outlives any redeploy of the API). */
      topic: ITopic;
      api: RestApi;
      functions: Record<string, NodejsFunction>;
      /**
       * Queues of what a job gave up on (a stream job's records that went unwitnessed, a started job's
       * runs that failed for good or never ran): any message alarms.
       */
      failureQueues: Record<string, IQueue>;
    },
  ) {
    super(scope, id);
    const action = new SnsAction(props.topic);
    const alarm = (name: string, metric: IMetric, threshold: number) =>
      new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(action);
    const fiveMinutes = { period: Duration.minutes(5), statistic: "Sum" };
    alarm("Api5xx", props.api.metricServerError(fiveMinutes), 5);
    // Many 4xx at once is how credential stuffing and enumeration look from here.
    alarm("Api4xxBurst", props.api.metricClientError(fiveMinutes), 200);
    for (const [id, fn] of Object.entries(props.functions)) {
      alarm(`${id}Errors`, fn.metricErrors(fiveMinutes), 1);
      alarm(`${id}Throttles`, fn.metricThrottles(fiveMinutes), 1);
      // Security events the functions log (break-glass grants, transcript integrity failures): each one alarms.
      new MetricFilter(this, `${id}SecurityEvents`, {
        logGroup: fn.logGroup,
        filterPattern: FilterPattern.exists("$.securityEvent"),
        metricNamespace: metricNamespace(props.stage),
        metricName: "SecurityEvents",
        metricValue: "1",
      });
    }
    // A stream job falling behind (throttled, failing, or its concurrency taken away) is not witnessing.
    for (const job of jobList.filter((candidate) => "stream" in candidate.trigger)) {
      const fn = props.functions[job.id];
      if (!fn) throw new Error(`stream job ${job.id} has no function`);
      alarm(
        `${job.id}IteratorAge`,
        fn.metric("IteratorAge", { period: Duration.minutes(1), statistic: "Maximum" }),
        MAX_ITERATOR_AGE_MS,
      );
    }
    // The checkpoint job not running (disabled schedule, throttled, broken deploy) stops new checkpoints.
    const heartbeat = props.functions[HEARTBEAT.job];
    if (!heartbeat) throw new Error(`no function for ${HEARTBEAT.job}`);
    new Alarm(this, `${HEARTBEAT.job}NotRunning`, {
      metric: heartbeat.metricInvocations({
        period: Duration.minutes(HEARTBEAT.periodMinutes),
        statistic: "Sum",
      }),
      threshold: 1,
      evaluationPeriods: HEARTBEAT.periods,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
    }).addAlarmAction(action);
    alarm(
      "WafBlocks",
      new Metric({
        namespace: "AWS/WAFV2",
        metricName: "BlockedRequests",
        dimensionsMap: { WebACL: props.webAclName, Region: Stack.of(this).region, Rule: "ALL" },
        ...fiveMinutes,
      }),
      WAF_BLOCKS_THRESHOLD,
    );
    for (const [id, queue] of Object.entries(props.failureQueues)) {
      alarm(`${id}GaveUp`, queue.metricApproximateNumberOfMessagesVisible(fiveMinutes), 1);
    }
    alarm(
      "SecurityEvent",
      new Metric({
        namespace: metricNamespace(props.stage),
        metricName: "SecurityEvents",
        period: Duration.minutes(1),
        statistic: "Sum",
      }),
      1,
    );
  }
}
