import { Duration } from "aws-cdk-lib";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { ManagedPolicy } from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { Construct } from "constructs";
import type { JobSpec } from "../../functions/jobs";
import { bundledFunction, type FunctionDefaults } from "./functions";

/**
 * The scheduled jobs of `functions/jobs.ts`: one function and one EventBridge rule each. A job runs with
 * reserved concurrency 1, so two runs never race (two checkpoint writers would both claim number n+1).
 */
export class Jobs extends Construct {
  readonly functions: Record<string, NodejsFunction> = {};
  readonly policies: ManagedPolicy[] = [];

  constructor(
    scope: Construct,
    id: string,
    props: FunctionDefaults & { jobs: readonly (JobSpec & { id: string })[] },
  ) {
    super(scope, id);
    for (const job of props.jobs) {
      const { fn, policy } = bundledFunction(this, { ...job, concurrency: 1 }, props);
      this.functions[job.id] = fn;
      this.policies.push(policy);
      new Rule(this, `${job.id}Schedule`, {
        description: job.summary,
        schedule: Schedule.expression(job.schedule),
        // A run that fails is retried briefly; after that the next scheduled run picks the work up.
        targets: [new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(4) })],
      });
    }
  }
}
