import { App } from "aws-cdk-lib";
import { applyNagPacks } from "./nag";
import { readSettings } from "./settings";
import { CoachVaultStack } from "./stack";

/** `npx cdk synth` / `cdk deploy`: one stack per stage, checked by the cdk-nag HIPAA and AWS Solutions packs. */
export function buildApp(app: App = new App()) {
  const settings = readSettings((key) => app.node.tryGetContext(key));
  const stack = new CoachVaultStack(app, `CoachVault-${settings.stage}`, settings, {
    env: {
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: process.env.CDK_DEFAULT_REGION ?? settings.region,
    },
    description: "CoachVault: HIPAA-grade API for health-coaching apps",
  });
  applyNagPacks(app, stack, settings);
  return { app, stack, settings };
}

if (process.argv[1]?.endsWith("app.ts")) buildApp().app.synth();
