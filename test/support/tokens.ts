import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { decodeJwt, importJWK, SignJWT } from "jose";

/**
 * Hostile tokens for the security tests. Some are signed with cognito-local's own key (which the API
 * trusts through the JWKS) but carry one wrong claim, so each test isolates exactly one check.
 */
const keyFile = join(
  dirname(createRequire(import.meta.url).resolve("cognito-local/package.json")),
  "lib",
  "keys",
  "cognitoLocal.private.json",
);

async function signingKey() {
  const { jwk } = JSON.parse(readFileSync(keyFile, "utf8"));
  return importJWK({ ...jwk, alg: "RS256" }, "RS256");
}

export async function forge(
  validToken: string,
  change: Record<string, unknown>,
  header: Record<string, unknown> = {},
) {
  const claims = { ...decodeJwt(validToken), ...change };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: "CognitoLocal", ...header })
    .sign(await signingKey());
}

export function unsigned(validToken: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(decodeJwt(validToken))}.`;
}

export function tamper(validToken: string, change: Record<string, unknown>): string {
  const [header, , signature] = validToken.split(".");
  const payload = Buffer.from(JSON.stringify({ ...decodeJwt(validToken), ...change })).toString("base64url");
  return `${header}.${payload}.${signature}`;
}
