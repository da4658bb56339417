import {
  type CognitoIdentityProviderClient,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
  RespondToAuthChallengeCommand,
  type RespondToAuthChallengeCommandOutput,
} from "@aws-sdk/client-cognito-identity-provider";
import { createSrpSession, signSrpSession, wrapAuthChallenge, wrapInitiateAuth } from "cognito-srp-helper";

/**
 * The password half of a deployed pool's sign-in: USER_SRP_AUTH (the only flow the cloud's app client
 * allows), the SRP arithmetic done by `cognito-srp-helper`, the calls made with the SDK's own client.
 * Returns the challenge that follows (SOFTWARE_TOKEN_MFA, or MFA_SETUP / NEW_PASSWORD_REQUIRED for a
 * new account) and the username Cognito wants in the answers to it.
 */
export async function srpPasswordStep(
  cognito: CognitoIdentityProviderClient,
  pool: { userPoolId: string; clientId: string },
  email: string,
  password: string,
): Promise<{ next: RespondToAuthChallengeCommandOutput; username: string }> {
  const session = createSrpSession(email, password, pool.userPoolId, false);
  const initiated: InitiateAuthCommandOutput = await cognito.send(
    new InitiateAuthCommand(
      wrapInitiateAuth(session, {
        ClientId: pool.clientId,
        AuthFlow: "USER_SRP_AUTH",
        AuthParameters: { USERNAME: email, CHALLENGE_NAME: "SRP_A" },
      }),
    ),
  );
  const username = initiated.ChallengeParameters?.USER_ID_FOR_SRP;
  if (initiated.ChallengeName !== "PASSWORD_VERIFIER" || !username)
    throw new Error("expected the PASSWORD_VERIFIER challenge");
  const next = await cognito.send(
    new RespondToAuthChallengeCommand(
      wrapAuthChallenge(signSrpSession(session, initiated), {
        ClientId: pool.clientId,
        ChallengeName: "PASSWORD_VERIFIER",
        Session: initiated.Session,
        ChallengeResponses: { USERNAME: username },
      }),
    ),
  );
  return { next, username };
}
