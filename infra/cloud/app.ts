import { App } from "aws-cdk-lib";
import { stackNames } from "../resources";
import { applyNagPacks } from "./nag";
import { readSettings } from "./settings";
import { StatefulStack, StatelessStack } from "./stack";

/**
 * `npx cdk synth` / `cdk deploy --all`: two stacks per stage, `CoachVault-<stage>-Stateful` and
 * `CoachVault-<stage>-Stateless` (deployed after it), both checked by the cdk-nag HIPAA and AWS Solutions packs.
 */
export function buildApp(app: App = new App(), env: NodeJS.ProcessEnv = process.env) {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  // A pinned account the CLI's credentials do not belong to: refused here, before anything is built.
  if (settings.account && env.CDK_DEFAULT_ACCOUNT && env.CDK_DEFAULT_ACCOUNT !== settings.account)
    throw new Error(
      `Stage ${settings.stage} deploys to account ${settings.account}, but the credentials are for ${env.CDK_DEFAULT_ACCOUNT}`,
    );
  const props = {
    env: {
      account: settings.account ?? env.CDK_DEFAULT_ACCOUNT,
      region: settings.region ?? env.CDK_DEFAULT_REGION ?? "us-east-1",
    },
  };
  const stateful = new StatefulStack(app, stackNames(settings.stage).stateful, settings, {
    ...props,
    description:
      "CoachVault: keys, tables, buckets, user pool, CloudTrail, alarm topic, network (rarely changes)",
  });
  const stateless = new StatelessStack(
    app,
    stackNames(settings.stage).stateless,
    settings,
    stateful.handover,
    {
      ...props,
      description: "CoachVault: HIPAA-grade API for health-coaching apps (API, functions, jobs, WAF, alarms)",
    },
  );
  // The handover is by export name, which CDK does not see as a reference: the order is stated here.
  stateless.addStackDependency(stateful, "reads the stateful stack's exports");
  applyNagPacks(app, { stateful, stateless }, settings);
  return { app, stateful, stateless, settings };
}

if (process.argv[1]?.endsWith("app.ts")) buildApp().app.synth();
