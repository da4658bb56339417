import {
  type CognitoIdentityProviderClient,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
  RespondToAuthChallengeCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { aws } from "../../shared/aws";
import { totpFor } from "./provision";

/** The real Cognito sign-in: password first, then the SOFTWARE_TOKEN_MFA challenge. Returns the ID token. */
export async function signIn(
  clientId: string,
  user: { email: string; password: string; totpSecret: string },
) {
  const cognito = aws("cognito");
  const first = await cognito.send(
    new InitiateAuthCommand({
      ClientId: clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
    }),
  );
  return answerTotpChallenge(cognito, clientId, first, user.email, user.totpSecret);
}

/**
 * The second factor of any sign-in flow (password here, SRP in the smoke test): answers the
 * SOFTWARE_TOKEN_MFA challenge with the current TOTP code. Returns the ID token.
 */
export async function answerTotpChallenge(
  cognito: CognitoIdentityProviderClient,
  clientId: string,
  challenge: Pick<InitiateAuthCommandOutput, "ChallengeName" | "Session">,
  username: string,
  totpSecret: string,
) {
  if (challenge.ChallengeName !== "SOFTWARE_TOKEN_MFA")
    throw new Error("expected the SOFTWARE_TOKEN_MFA challenge");
  const second = await cognito.send(
    new RespondToAuthChallengeCommand({
      ClientId: clientId,
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      Session: challenge.Session,
      ChallengeResponses: {
        USERNAME: username,
        SOFTWARE_TOKEN_MFA_CODE: totpFor(totpSecret).generate(),
      },
    }),
  );
  const token = second.AuthenticationResult?.IdToken;
  if (!token) throw new Error("sign-in returned no ID token");
  return token;
}
