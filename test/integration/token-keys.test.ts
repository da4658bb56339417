import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { handler, run } from "../../functions/auth/refresh-token-keys.job";
import { lambdaContext } from "../../infra/local/lambda-runtime";
import { jobMeta } from "../../shared/audit";
import { forgetTokenKeys, TOKEN_KEYS_ITEM, verifyAuthorization } from "../../shared/auth";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { UnauthorizedError } from "../../shared/errors";
import { cloudFormationResponses } from "../support/cloudformation";
import { testStack } from "../support/stack";

/**
 * The token-key path end to end against the local stack: the refresh job fetches cognito-local's JWKS and
 * stores it in DynamoDB Local; verification reads it through Powertools Parameters, exactly as in the cloud.
 */
const stack = testStack();
const job = {
  service: "job:refreshTokenKeys",
  meta: jobMeta("test", "job:refreshTokenKeys"),
  remainingMs: () => 30_000,
};
const stored = async () =>
  (
    await aws("dynamo").send(
      new GetCommand({ TableName: getConfig().TABLE_RECORDS, Key: TOKEN_KEYS_ITEM, ConsistentRead: true }),
    )
  ).Item;

afterAll(async () => {
  // Whatever a test left stored, the pool's own keys are what the rest of the run finds.
  await run({}, job);
  forgetTokenKeys();
});

describe("token keys without internet", () => {
  it("the local stack stored the pool's keys before it served (as a deploy runs the job)", async () => {
    const token = await stack.token("coach1@demo.example");
    const item = await stored();
    expect(JSON.parse(item?.value as string).keys.map((key: { kid: string }) => key.kid)).toContain(
      decodeProtectedHeader(token).kid,
    );
    const res = await stack.api("GET", "/clients", { token });
    expect(res.status).toBe(200);
  });

  it("a key the pool added since the cached set was read is accepted after one forced read; one withdrawn is refused", async () => {
    const config = getConfig();
    // A stale set: only a key of our own under a kid the pool never had (and a token it signed).
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const { n, e } = await exportJWK(publicKey);
    const staleKey = { kid: "withdrawn-key", kty: "RSA", alg: "RS256", use: "sig", n, e };
    await aws("dynamo").send(
      new PutCommand({
        TableName: config.TABLE_RECORDS,
        Item: { ...TOKEN_KEYS_ITEM, value: JSON.stringify({ keys: [staleKey] }) },
      }),
    );
    const ownToken = await new SignJWT({ token_use: "id", "custom:orgId": "demo" })
      .setProtectedHeader({ alg: "RS256", kid: staleKey.kid })
      .setIssuer(config.COGNITO_ISSUER)
      .setAudience(config.USER_POOL_CLIENT_ID)
      .setSubject("someone")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    forgetTokenKeys();
    // The stored item is the trust anchor: whatever key it holds verifies (hence only the job may write it).
    await expect(verifyAuthorization(`Bearer ${ownToken}`)).resolves.toMatchObject({ sub: "someone" });

    // The job stores the pool's current keys; the function still holds the stale set in its cache.
    const { kids } = await run({}, job);
    const poolToken = await stack.token("coach2@demo.example");
    expect(kids).toContain(decodeProtectedHeader(poolToken).kid);
    await expect(verifyAuthorization(`Bearer ${poolToken}`)).resolves.toMatchObject({
      "custom:orgId": "demo",
    });
    // That forced read replaced the cached set: the withdrawn key no longer verifies.
    await expect(verifyAuthorization(`Bearer ${ownToken}`)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("the job's handler answers a deploy's custom resource request after storing the keys", async () => {
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_RECORDS,
        Item: { ...TOKEN_KEYS_ITEM, value: '{"keys":[]}' },
      }),
    );
    const cfn = cloudFormationResponses();
    try {
      await handler(
        {
          RequestType: "Create",
          ResponseURL: cfn.url,
          StackId: "stack",
          RequestId: "request",
          LogicalResourceId: "JobsrefreshTokenKeysOnDeploy",
        },
        lambdaContext("coachvault-local-refreshTokenKeys", "request", 30_000),
      );
    } finally {
      cfn.close();
    }
    expect(cfn.answers).toEqual([expect.objectContaining({ Status: "SUCCESS", RequestId: "request" })]);
    expect(JSON.parse((await stored())?.value as string).keys.length).toBeGreaterThan(0);
  });
});
