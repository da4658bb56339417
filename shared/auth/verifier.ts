import { decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { type Config, getConfig } from "../config";
import { UnauthorizedError } from "../errors";
import { storedTokenKeys, type TokenKeySource, tokenKeyResolver } from "./token-keys";

type Verifier = (token: string) => Promise<JWTPayload>;

/**
 * Verifies a Cognito ID token: RS256 signature against the pool's keys (`token-keys.ts`: stored by the
 * refresh job, cached, read again once for a `kid` not among them), issuer, audience (the app client),
 * `token_use`, expiry. ID tokens are what the API takes, since they carry `custom:orgId`. A token whose
 * key is still unknown after that read is a 401; keys that cannot be read at all are a 503.
 */
export function tokenVerifier(
  source: TokenKeySource,
  expected: { issuer: string; clientId: string },
  now: () => number = Date.now,
): Verifier {
  const keysFor = tokenKeyResolver(source, now);
  return async (token) => {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new UnauthorizedError();
    }
    if (typeof kid !== "string" || kid.length === 0 || kid.length > 256) throw new UnauthorizedError();
    const keys = await keysFor(kid);
    if (!keys.kids.has(kid)) throw new UnauthorizedError();
    try {
      const { payload } = await jwtVerify(token, keys.getKey, {
        issuer: expected.issuer,
        audience: expected.clientId,
        algorithms: ["RS256"],
        requiredClaims: ["exp", "iat", "sub", "token_use"],
        clockTolerance: 5,
      });
      if (payload.token_use !== "id") throw new UnauthorizedError();
      return payload;
    } catch {
      throw new UnauthorizedError();
    }
  };
}

let cached: { config: Config; verify: Verifier } | undefined;

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/** Returns the verified claims of the `Authorization: Bearer` header, or throws UnauthorizedError. */
export async function verifyAuthorization(header: string | undefined): Promise<JWTPayload> {
  const token = header ? BEARER.exec(header)?.[1] : undefined;
  if (!token || token.length > 8192) throw new UnauthorizedError();
  const config = getConfig();
  if (cached?.config !== config) {
    cached = {
      config,
      verify: tokenVerifier(storedTokenKeys(config), {
        issuer: config.COGNITO_ISSUER,
        clientId: config.USER_POOL_CLIENT_ID,
      }),
    };
  }
  return cached.verify(token);
}

/** Forgets the cached key set and verifier, so the next verification reads the stored keys (tests, tools). */
export function forgetTokenKeys(): void {
  cached = undefined;
}
