import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as z from "zod";
import { answerTotpChallenge, signIn } from "../local/sign-in";
import { readDemoUsers, readEndpoints, useLocalStack } from "../local/stack";
import { resourceName, stackNames } from "../resources";
import { httpsSender } from "./http";
import { srpPasswordStep } from "./srp";
import { SMOKE_ORG, type SmokeRole, type SmokeTarget } from "./steps";

/**
 * Where a stage's smoke users' sign-in secrets live: one Secrets Manager secret per stage, written once by
 * `npm run smoke:setup -- --stage <name> …` and read only by whoever runs the smoke test.
 */
export const smokeSecretName = (stage: string) => resourceName(stage, "smoke-users");

const SmokeUser = z.strictObject({
  email: z.email(),
  password: z.string().min(12),
  totpSecret: z.string().min(16),
});
export const SmokeSecretSchema = z.strictObject({
  orgId: z.literal(SMOKE_ORG),
  users: z.strictObject({ coach: SmokeUser, admin: SmokeUser }),
});
export type SmokeSecret = z.infer<typeof SmokeSecretSchema>;

const parseJson = (text: string | undefined): unknown => {
  try {
    return JSON.parse(text ?? "null");
  } catch {
    return undefined;
  }
};

/** The local stack in `dir` (`npm start`'s `.local`, or a test run's): its seeded smoke org users. */
export function localTarget(dir: string, origin?: string): SmokeTarget {
  const endpoints = readEndpoints(dir);
  useLocalStack(endpoints);
  const users = readDemoUsers(dir).filter((user) => user.orgId === SMOKE_ORG);
  const allowedOrigin = origin ?? endpoints.env.ALLOWED_ORIGINS?.split(",")[0];
  if (!allowedOrigin) throw new Error("the local stack allows no origin (set ALLOWED_ORIGINS)");
  return {
    name: "the local stack",
    send: httpsSender(endpoints.apiUrl, readFileSync(join(dir, "tls", "cert.pem"))),
    allowedOrigin,
    signIn: (role) => {
      const user = users.find((candidate) => candidate.role === role);
      if (!user) throw new Error(`the local stack has no smoke ${role} (restart it with a fresh .local)`);
      return signIn(endpoints.userPoolClientId, user);
    },
  };
}

/** The stage's settings in cdk.json (`stages.<stage>`), for the region and origin when no flag names them. */
export function stageDefaults(stage: string): { region?: string; allowedOrigin?: string } {
  const cdk = JSON.parse(readFileSync("cdk.json", "utf8")) as {
    context?: { stages?: Record<string, { region?: string; allowedOrigins?: string[] | string }> };
  };
  const settings = cdk.context?.stages?.[stage];
  const origins = settings?.allowedOrigins;
  const first = Array.isArray(origins) ? origins[0] : origins?.split(",")[0];
  return { ...(settings?.region && { region: settings.region }), ...(first && { allowedOrigin: first }) };
}

/** The outputs of the stage's stacks, by OutputKey. */
export async function stackOutputs(
  cloudFormation: CloudFormationClient,
  stage: string,
): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {};
  for (const StackName of Object.values(stackNames(stage))) {
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName }));
    for (const output of described.Stacks?.[0]?.Outputs ?? [])
      if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}

export function requiredOutput(outputs: Record<string, string>, key: string, stage: string): string {
  const value = outputs[key];
  if (!value) throw new Error(`the stacks of stage ${stage} have no output ${key} (deployed?)`);
  return value;
}

/**
 * A deployed stage, with the caller's AWS credentials (the SDK's usual chain): endpoints from the stacks'
 * outputs (`ApiUrl`; `UserPoolId`, `UserPoolClientId`), the smoke users from the stage's secret, sign-in by
 * SRP and TOTP as the app does. These clients belong to the operator's tool, not to a function, so they
 * are built here from the region alone rather than by `shared/aws` from a function's settings.
 */
export async function cloudTarget(
  stage: string,
  options: { region?: string; origin?: string },
): Promise<SmokeTarget> {
  const defaults = stageDefaults(stage);
  const region = options.region ?? defaults.region;
  const clientOptions = region ? { region } : {};
  const outputs = await stackOutputs(new CloudFormationClient(clientOptions), stage);
  const pool = {
    userPoolId: requiredOutput(outputs, "UserPoolId", stage),
    clientId: requiredOutput(outputs, "UserPoolClientId", stage),
  };
  const apiUrl = requiredOutput(outputs, "ApiUrl", stage);
  const allowedOrigin = options.origin ?? defaults.allowedOrigin;
  if (!allowedOrigin) throw new Error(`name an origin the stage allows: --origin https://…`);
  const secret = await new SecretsManagerClient(clientOptions).send(
    new GetSecretValueCommand({ SecretId: smokeSecretName(stage) }),
  );
  // Never the value (JSON.parse's own message quotes the text): only that it is not what setup writes.
  const parsed = SmokeSecretSchema.safeParse(parseJson(secret.SecretString));
  if (!parsed.success) throw new Error(`the secret ${smokeSecretName(stage)} is not a smoke-users secret`);
  const cognito = new CognitoIdentityProviderClient(clientOptions);
  return {
    name: `stage ${stage}`,
    send: httpsSender(apiUrl),
    allowedOrigin,
    signIn: async (role: SmokeRole) => {
      const user = parsed.data.users[role];
      const { next, username } = await srpPasswordStep(cognito, pool, user.email, user.password);
      return answerTotpChallenge(cognito, pool.clientId, next, username, user.totpSecret);
    },
  };
}
