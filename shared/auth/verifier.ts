import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import { getConfig } from "../config";
import { UnauthorizedError } from "../errors";

type Verifier = (token: string) => Promise<JWTPayload>;

let cached: { jwksUrl: string; verify: Verifier } | undefined;

/**
 * Verifies a Cognito ID token: RS256 signature against the pool's JWKS, issuer, audience (the app
 * client), `token_use`, expiry. ID tokens are what the API takes, since they carry `custom:orgId`.
 */
function buildVerifier(jwksUrl: string, issuer: string, clientId: string): Verifier {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 3_000 });
  return async (token) => {
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience: clientId,
      algorithms: ["RS256"],
      requiredClaims: ["exp", "iat", "sub", "token_use"],
      clockTolerance: 5,
    });
    if (payload.token_use !== "id") throw new UnauthorizedError();
    return payload;
  };
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/** Returns the verified claims of the `Authorization: Bearer` header, or throws UnauthorizedError. */
export async function verifyAuthorization(header: string | undefined): Promise<JWTPayload> {
  const token = header ? BEARER.exec(header)?.[1] : undefined;
  if (!token || token.length > 8192) throw new UnauthorizedError();
  const config = getConfig();
  if (cached?.jwksUrl !== config.COGNITO_JWKS_URL) {
    cached = {
      jwksUrl: config.COGNITO_JWKS_URL,
      verify: buildVerifier(config.COGNITO_JWKS_URL, config.COGNITO_ISSUER, config.USER_POOL_CLIENT_ID),
    };
  }
  try {
    return await cached.verify(token);
  } catch {
    throw new UnauthorizedError();
  }
}
