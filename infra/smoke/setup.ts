import { parseArgs } from "node:util";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import {
  AdminSetUserPasswordCommand,
  AssociateSoftwareTokenCommand,
  type CognitoIdentityProviderClient,
  RespondToAuthChallengeCommand,
  VerifySoftwareTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { bootstrapOrgAdmin } from "../../functions/users/bootstrap";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { followDirectory } from "../../shared/people";
import { newPassword, totpFor } from "../local/provision";
import { httpsSender, type Send } from "./http";
import { srpPasswordStep } from "./srp";
import { SMOKE_ORG } from "./steps";
import { requiredOutput, type SmokeSecret, smokeSecretName, stackOutputs } from "./targets";

/**
 * `npm run smoke:setup -- --stage <name> --admin-email <address> --coach-email <address>`: makes a deployed
 * stage's smoke org once, with the operator's AWS credentials and the functions' settings in the
 * environment (as for `npm run bootstrap -- --cloud`; see the README's "First deploy"):
 *   1. the smoke org's admin, by the same code as `npm run bootstrap` (its temporary password set here,
 *      so Cognito sends no email);
 *   2. that admin's first sign-in: SRP with the temporary password, a new random password, TOTP enrolled
 *      (the MFA_SETUP challenge);
 *   3. the smoke coach, invited by that admin through `POST /users` as any coach is (the invitation email
 *      goes to `--coach-email`: use a mailbox the operators own), then given a temporary password and
 *      signed in the same way;
 *   4. both users' addresses, passwords and TOTP secrets in one Secrets Manager secret
 *      (`coachvault-<stage>-smoke-users`), which only whoever runs `npm run smoke` needs to read.
 * Nothing secret is printed. It refuses to run when that secret already exists. Exit 0 when done, 1 when a
 * step failed (named), 2 on wrong arguments. The local stack seeds its smoke users itself.
 */
const USAGE = "usage: npm run smoke:setup -- --stage <name> --admin-email <address> --coach-email <address>";

type Enrolled = { password: string; totpSecret: string; idToken: string };

/** A new account's first sign-in over SRP: the new-password challenge, then TOTP enrolment (MFA_SETUP). */
async function firstSignIn(
  cognito: CognitoIdentityProviderClient,
  pool: { userPoolId: string; clientId: string },
  email: string,
  temporaryPassword: string,
): Promise<Enrolled> {
  const { next, username } = await srpPasswordStep(cognito, pool, email, temporaryPassword);
  if (next.ChallengeName !== "NEW_PASSWORD_REQUIRED") throw new Error("expected NEW_PASSWORD_REQUIRED");
  const password = newPassword();
  const setup = await cognito.send(
    new RespondToAuthChallengeCommand({
      ClientId: pool.clientId,
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      Session: next.Session,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: password },
    }),
  );
  if (setup.ChallengeName !== "MFA_SETUP") throw new Error("expected the MFA_SETUP challenge");
  const association = await cognito.send(new AssociateSoftwareTokenCommand({ Session: setup.Session }));
  const totpSecret = association.SecretCode;
  if (!totpSecret) throw new Error("AssociateSoftwareToken returned no secret");
  const verified = await cognito.send(
    new VerifySoftwareTokenCommand({
      Session: association.Session,
      UserCode: totpFor(totpSecret).generate(),
      FriendlyDeviceName: "smoke test",
    }),
  );
  if (verified.Status !== "SUCCESS") throw new Error("the TOTP code was not accepted");
  const done = await cognito.send(
    new RespondToAuthChallengeCommand({
      ClientId: pool.clientId,
      ChallengeName: "MFA_SETUP",
      Session: verified.Session,
      ChallengeResponses: { USERNAME: username },
    }),
  );
  const idToken = done.AuthenticationResult?.IdToken;
  if (!idToken) throw new Error("the first sign-in returned no ID token");
  return { password, totpSecret, idToken };
}

/** Invites the smoke coach as the smoke admin and waits (up to two minutes) until the account exists. */
async function inviteCoach(send: Send, adminToken: string, email: string): Promise<void> {
  const invited = await send({
    method: "POST",
    path: "/users",
    token: adminToken,
    body: { email, role: "coach" },
  });
  const inviteId = (invited.json as { inviteId?: string } | undefined)?.inviteId;
  if (invited.status !== 202 || !inviteId) throw new Error(`POST /users answered ${invited.status}`);
  for (let attempt = 0; attempt < 120; attempt++) {
    const list = await send({ method: "GET", path: "/users/invites", token: adminToken });
    const items = (list.json as { items?: { inviteId: string; status: string }[] } | undefined)?.items ?? [];
    const status = items.find((item) => item.inviteId === inviteId)?.status;
    if (status === "sent") return;
    if (status === "failed")
      throw new Error("the invitation failed (does the address already have an account?)");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error("the invitation is still pending after two minutes");
}

async function setUp(stage: string, adminEmail: string, coachEmail: string): Promise<void> {
  const config = getConfig();
  const secrets = new SecretsManagerClient({ region: config.AWS_REGION });
  const secretName = smokeSecretName(stage);
  const exists = await secrets
    .send(new DescribeSecretCommand({ SecretId: secretName }))
    .then(() => true)
    .catch((error: unknown) => {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    });
  if (exists) throw new Error(`the secret ${secretName} exists: the smoke org is set up already`);
  const outputs = await stackOutputs(new CloudFormationClient({ region: config.AWS_REGION }), stage);
  const send = httpsSender(requiredOutput(outputs, "ApiUrl", stage));
  const pool = { userPoolId: config.USER_POOL_ID, clientId: config.USER_POOL_CLIENT_ID };
  const cognito = aws("cognito");

  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      console.log(`  ok    ${name}`);
      return result;
    } catch (error) {
      throw new Error(`${name}: ${error instanceof Error ? error.message : "failed"}`);
    }
  };

  const adminTemporary = newPassword();
  await step("create the smoke org's admin", async () => {
    const result = await bootstrapOrgAdmin(
      { orgId: SMOKE_ORG, email: adminEmail },
      { temporaryPassword: adminTemporary },
    );
    if (result.outcome === "refused") throw new Error(result.reason);
    // The role comes from the token's group: the admin signs in only once Cognito has it.
    let synced = result.synced;
    for (let attempt = 0; !synced && attempt < 10; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      synced = (await followDirectory(SMOKE_ORG, result.userId)) === "synced";
    }
    if (!synced) throw new Error("Cognito has not taken the admin group yet (identitySync applies it)");
  });
  const admin = await step("first sign-in of the smoke admin (new password, TOTP)", () =>
    firstSignIn(cognito, pool, adminEmail, adminTemporary),
  );
  await step("invite the smoke coach", () => inviteCoach(send, admin.idToken, coachEmail));
  const coachTemporary = newPassword();
  await step("give the smoke coach a temporary password", () =>
    cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: pool.userPoolId,
        Username: coachEmail,
        Password: coachTemporary,
        Permanent: false,
      }),
    ),
  );
  const coach = await step("first sign-in of the smoke coach (new password, TOTP)", () =>
    firstSignIn(cognito, pool, coachEmail, coachTemporary),
  );
  const secret: SmokeSecret = {
    orgId: SMOKE_ORG,
    users: {
      admin: { email: adminEmail, password: admin.password, totpSecret: admin.totpSecret },
      coach: { email: coachEmail, password: coach.password, totpSecret: coach.totpSecret },
    },
  };
  await step(`store the smoke users' sign-in secrets in ${secretName}`, () =>
    secrets.send(
      new CreateSecretCommand({
        Name: secretName,
        Description: `Sign-in of the smoke org's users of CoachVault stage ${stage} (npm run smoke)`,
        SecretString: JSON.stringify(secret),
      }),
    ),
  );
}

let values: { stage?: string; "admin-email"?: string; "coach-email"?: string };
try {
  ({ values } = parseArgs({
    options: {
      stage: { type: "string" },
      "admin-email": { type: "string" },
      "coach-email": { type: "string" },
    },
  }));
} catch {
  console.error(USAGE);
  process.exit(2);
}
const { stage, "admin-email": adminEmail, "coach-email": coachEmail } = values;
if (!stage || stage === "local" || !adminEmail || !coachEmail) {
  console.error(USAGE);
  process.exit(2);
}
try {
  console.log(`setting up the smoke org of stage ${stage}`);
  await setUp(stage, adminEmail.toLowerCase(), coachEmail.toLowerCase());
  console.log(`smoke org of stage ${stage} ready: run npm run smoke -- --stage ${stage}`);
} catch (error) {
  console.error(`smoke setup failed at step ${error instanceof Error ? error.message : "unknown"}`);
  process.exit(1);
}
