import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { ManagedPolicy } from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { Construct } from "constructs";
import type { JobSpec } from "../../functions/jobs";
import { resourceName } from "../resources";
import { bundledFunction, type FunctionDefaults } from "./functions";

/**
 * The jobs of `functions/jobs.ts`: one function each, named `coachvault-<stage>-<id>` so that others can
 * start it by name, and for a scheduled one an EventBridge rule. A job runs with reserved concurrency 1
 * unless its entry says otherwise, so two runs never race (two checkpoint writers would both claim n+1).
 * Started jobs get Lambda's asynchronous retries (two) and an event age limit.
 */
export class Jobs extends Construct {
  readonly functions: Record<string, NodejsFunction> = {};
  readonly policies: ManagedPolicy[] = [];

  constructor(
    scope: Construct,
    id: string,
    props: FunctionDefaults & { stage: string; jobs: readonly (JobSpec & { id: string })[] },
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
      if ("schedule" in job.trigger) {
        new Rule(this, `${job.id}Schedule`, {
          description: job.summary,
          schedule: Schedule.expression(job.trigger.schedule),
          // A run that fails is retried briefly; after that the next scheduled run picks the work up.
          targets: [new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(4) })],
        });
      } else {
        fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
      }
    }
  }
}
