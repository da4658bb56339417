import { App } from "aws-cdk-lib";
import { applyNagPacks } from "./nag";
import { readSettings } from "./settings";
import { CoachVaultStack } from "./stack";

/** `npx cdk synth` / `cdk deploy`: one stack per stage, checked by the cdk-nag HIPAA and AWS Solutions packs. */
export function buildApp(app: App = new App(), env: NodeJS.ProcessEnv = process.env) {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  // A pinned account the CLI's credentials do not belong to: refused here, before anything is built.
  if (settings.account && env.CDK_DEFAULT_ACCOUNT && env.CDK_DEFAULT_ACCOUNT !== settings.account)
    throw new Error(
      `Stage ${settings.stage} deploys to account ${settings.account}, but the credentials are for ${env.CDK_DEFAULT_ACCOUNT}`,
    );
  const stack = new CoachVaultStack(app, `CoachVault-${settings.stage}`, settings, {
    env: {
      account: settings.account ?? env.CDK_DEFAULT_ACCOUNT,
      region: settings.region ?? env.CDK_DEFAULT_REGION ?? "us-east-1",
    },
    description: "CoachVault: HIPAA-grade API for health-coaching apps",
  });
  applyNagPacks(app, stack, settings);
  return { app, stack, settings };
}

if (process.argv[1]?.endsWith("app.ts")) buildApp().app.synth();
