import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ServiceUnavailableError, UnauthorizedError } from "../errors";
import { FORCED_READ_COOLDOWN_MS, type Jwks, type TokenKeySource } from "./token-keys";
import { tokenVerifier } from "./verifier";

const ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test";
const CLIENT = "app-client";

type Signer = {
  kid: string;
  /** An ID token for the pool and client, signed with this key; `headerKid` names another key in the header. */
  sign: (claims?: Record<string, unknown>, headerKid?: string) => Promise<string>;
  jwk: Jwks["keys"][0];
};

async function signer(kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const { n, e } = await exportJWK(publicKey);
  return {
    kid,
    jwk: { kid, kty: "RSA", alg: "RS256", use: "sig", n: n as string, e: e as string },
    sign: (claims = {}, headerKid = kid) =>
      new SignJWT({
        token_use: "id",
        "custom:orgId": "acme",
        iss: ISSUER,
        aud: CLIENT,
        sub: "user-1",
        ...claims,
      })
        .setProtectedHeader({ alg: "RS256", kid: headerKid })
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(privateKey),
  };
}

/**
 * A stand-in for the stored key set: `cached` is what a function holds (Powertools' cache), `stored` what
 * the refresh job last wrote; a forced read makes the stored set the cached one. Every read is counted.
 */
function fakeStore(initial: Jwks | undefined) {
  const store = { cached: initial, stored: initial, reads: 0, forced: 0 };
  const source: TokenKeySource = async ({ force }) => {
    store.reads++;
    if (force) {
      store.forced++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      store.cached = store.stored;
    }
    return store.cached;
  };
  return { store, source };
}

let current: Signer;
let rotated: Signer;
let stranger: Signer;
beforeAll(async () => {
  [current, rotated, stranger] = await Promise.all([signer("key-1"), signer("key-2"), signer("key-1")]);
});

const jwks = (...signers: Signer[]): Jwks => ({ keys: signers.map((s) => s.jwk) });

describe("token verification against the stored key set", () => {
  it("accepts an ID token signed with a cached key, without reading again", async () => {
    const { store, source } = fakeStore(jwks(current));
    const verify = tokenVerifier(source, { issuer: ISSUER, clientId: CLIENT });
    await expect(verify(await current.sign())).resolves.toMatchObject({ sub: "user-1" });
    expect(store.forced).toBe(0);
  });

  it("an unknown kid forces one read: a key Cognito added since is then accepted", async () => {
    const { store, source } = fakeStore(jwks(current));
    store.stored = jwks(current, rotated);
    const verify = tokenVerifier(source, { issuer: ISSUER, clientId: CLIENT });
    await expect(verify(await rotated.sign())).resolves.toMatchObject({ sub: "user-1" });
    expect(store.forced).toBe(1);
    // Now cached: no further forced read.
    await verify(await rotated.sign());
    expect(store.forced).toBe(1);
  });

  it("an unknown kid still unknown after that read fails closed (401)", async () => {
    const { store, source } = fakeStore(jwks(current));
    const verify = tokenVerifier(source, { issuer: ISSUER, clientId: CLIENT });
    await expect(verify(await rotated.sign())).rejects.toBeInstanceOf(UnauthorizedError);
    expect(store.forced).toBe(1);
  });

  it("a storm of tokens with made-up kids forces one read, and none more within the cooldown", async () => {
    let now = 1_000_000;
    const { store, source } = fakeStore(jwks(current));
    const verify = tokenVerifier(source, { issuer: ISSUER, clientId: CLIENT }, () => now);
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => stranger.sign({}, `made-up-${i}`)));
    const outcomes = await Promise.allSettled(tokens.map((token) => verify(token)));
    expect(outcomes.every((o) => o.status === "rejected" && o.reason instanceof UnauthorizedError)).toBe(
      true,
    );
    expect(store.forced).toBe(1);
    now += FORCED_READ_COOLDOWN_MS - 1;
    await Promise.allSettled(tokens.map((token) => verify(token)));
    expect(store.forced).toBe(1);
    // Honest tokens keep working meanwhile, from the cache.
    await expect(verify(await current.sign())).resolves.toBeDefined();
    now += 1;
    await Promise.allSettled(tokens.slice(0, 10).map((token) => verify(token)));
    expect(store.forced).toBe(2);
  });

  it("a token signed by another key under a known kid, or not an ID token for this pool and client, is a 401", async () => {
    const { source } = fakeStore(jwks(current));
    const verify = tokenVerifier(source, { issuer: ISSUER, clientId: CLIENT });
    for (const token of [
      await stranger.sign(),
      await current.sign({ token_use: "access" }),
      await current.sign({ aud: "another-client" }),
      await current.sign({ iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other" }),
      "not.a.token",
    ])
      await expect(verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("no stored key set at all (the refresh job never ran) is a 503, not a 401; a failed read stays a 503", async () => {
    const empty = tokenVerifier(fakeStore(undefined).source, { issuer: ISSUER, clientId: CLIENT });
    await expect(empty(await current.sign())).rejects.toBeInstanceOf(ServiceUnavailableError);
    const failing = tokenVerifier(
      async () => {
        throw new ServiceUnavailableError();
      },
      { issuer: ISSUER, clientId: CLIENT },
    );
    await expect(failing(await current.sign())).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
