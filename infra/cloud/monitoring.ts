import { Duration, NestedStack } from "aws-cdk-lib";
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
import { jobList } from "../../functions/jobs";

/** Stream jobs fall behind their stream by at most this much before it alarms (records expire after 24 h). */
const MAX_ITERATOR_AGE_MS = 60_000;

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
        metricNamespace: "CoachVault",
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
    for (const [id, queue] of Object.entries(props.failureQueues)) {
      alarm(`${id}GaveUp`, queue.metricApproximateNumberOfMessagesVisible(fiveMinutes), 1);
    }
    alarm(
      "SecurityEvent",
      new Metric({
        namespace: "CoachVault",
        metricName: "SecurityEvents",
        period: Duration.minutes(1),
        statistic: "Sum",
      }),
      1,
    );
  }
}
