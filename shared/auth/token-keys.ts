import { DynamoDBProvider } from "@aws-lambda-powertools/parameters/dynamodb";
import { GetParameterError } from "@aws-lambda-powertools/parameters/errors";
import { createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import * as z from "zod";
import { aws } from "../aws";
import type { Config } from "../config";
import { AppError, IntegrityError, ServiceUnavailableError } from "../errors";
import { logger } from "../log";

/**
 * The user pool's token keys (its JWKS), as functions read them: from the records table, never from
 * Cognito. In the default VPC mode (`useVpc`) functions have no route to the internet, and AWS does not
 * document that the `cognito-idp` interface endpoint serves `/<pool>/.well-known/jwks.json`:
 * - https://docs.aws.amazon.com/cognito/latest/developerguide/vpc-interface-endpoints.html lists what
 *   clients in a VPC reach through it as "SDK and REST API unauthenticated requests" and "SDK and REST
 *   API SigV4 authenticated requests", and says "The following authentication types aren't currently
 *   supported through AWS PrivateLink: ... Sign-in with managed login and the classic hosted UI."
 * - https://docs.aws.amazon.com/cognito/latest/developerguide/user-pools-API-operations.html files
 *   jwks.json among the *user pool endpoints* ("Endpoints that provide information about your
 *   environment, like oauth2/userInfo and jwks.json"), not among the user pools API operations.
 * Unclear at best, so the keys are delivered without internet: the `refreshTokenKeys` job (outside the
 * VPC, `functions/jobs.ts`) fetches the JWKS on every deploy and every 5 minutes and stores it in one
 * item that only its role may write (IAM leading keys, `infra/cloud/permissions.ts`); functions read it
 * through Powertools Parameters' DynamoDB provider over the DynamoDB gateway endpoint they already have
 * (SSM Parameter Store would need another interface endpoint, and a second store to guard).
 */
export const TOKEN_KEYS_ITEM = { pk: "DEPLOYMENT#TOKEN_KEYS", sk: "JWKS" } as const;

/** The item's partition as an IAM `dynamodb:LeadingKeys` pattern (an exact key: no wildcard). */
export const TOKEN_KEYS_PARTITION_PATTERN = TOKEN_KEYS_ITEM.pk;

/** A signing key as Cognito publishes it (RSA, RS256); anything else in the set is refused, not skipped. */
const Jwk = z.object({
  kid: z.string().min(1).max(256),
  kty: z.literal("RSA"),
  alg: z.literal("RS256"),
  use: z.literal("sig").optional(),
  n: z.string().regex(/^[A-Za-z0-9_-]+$/),
  e: z.string().regex(/^[A-Za-z0-9_-]+$/),
});
export const JwksSchema = z.object({ keys: z.array(Jwk).min(1).max(20) });
export type Jwks = z.infer<typeof JwksSchema>;

/** Where a function's key set comes from: cached (`force: false`) or read again now (`force: true`). */
export type TokenKeySource = (options: { force: boolean }) => Promise<Jwks | undefined>;

/**
 * The stored key set through Powertools Parameters' DynamoDB provider on the records table (the item's
 * partition read with `getMultiple`, since the table has a sort key), kept `TOKEN_KEYS_MAX_AGE_SECONDS`.
 * A failed read is the AWS call's own typed error (a 503 when throttled or unreachable), never a 401.
 */
export function storedTokenKeys(config: Config): TokenKeySource {
  const provider = new DynamoDBProvider({
    tableName: config.TABLE_RECORDS,
    keyAttr: "pk",
    sortAttr: "sk",
    valueAttr: "value",
    awsSdkV3Client: aws("dynamoRaw"),
  });
  let last: { stored: unknown; jwks: Jwks } | undefined;
  return async ({ force }) => {
    let values: Record<string, unknown> | undefined;
    try {
      values = (await provider.getMultiple(TOKEN_KEYS_ITEM.pk, {
        maxAge: config.TOKEN_KEYS_MAX_AGE_SECONDS,
        forceFetch: force,
        transform: "json",
        throwOnTransformError: true,
        // A forced read follows a key Cognito may have added moments ago: read what the job last wrote.
        ...(force && { sdkOptions: { ConsistentRead: true } }),
      })) as Record<string, unknown> | undefined;
    } catch (error) {
      const cause = error instanceof GetParameterError ? error.cause : error;
      if (cause instanceof AppError) throw cause;
      if (error instanceof GetParameterError) throw new ServiceUnavailableError(undefined, { cause });
      logger.error("stored token keys are not a key set", { item: TOKEN_KEYS_ITEM.pk });
      throw new IntegrityError({ cause: error });
    }
    const stored = values?.[TOKEN_KEYS_ITEM.sk];
    if (stored === undefined) return undefined;
    // The provider hands back the same object until it reads again: parse (and build keys) once per read.
    if (last?.stored === stored) return last.jwks;
    const parsed = JwksSchema.safeParse(stored);
    if (!parsed.success) {
      logger.error("stored token keys are not a key set", { item: TOKEN_KEYS_ITEM.pk });
      throw new IntegrityError();
    }
    last = { stored, jwks: parsed.data };
    return parsed.data;
  };
}

/**
 * A token naming a key the cached set lacks forces one read of the stored set, but at most one read at a
 * time and none within this long after the last: a stream of tokens with made-up `kid`s costs one
 * DynamoDB read per 30 s per function instance, not one per request.
 */
export const FORCED_READ_COOLDOWN_MS = 30_000;

export type TokenKeys = { getKey: JWTVerifyGetKey; kids: ReadonlySet<string> };

/**
 * The key set that should hold a token's `kid`: the cached one if it does, else the set after one forced
 * read (rate-limited as above). The caller fails closed (401) when the kid is still not there. No stored
 * set at all (the refresh job never ran) is a 503: nothing the caller did.
 */
export function tokenKeyResolver(
  source: TokenKeySource,
  now: () => number = Date.now,
): (kid: string) => Promise<TokenKeys> {
  let lastForced = Number.NEGATIVE_INFINITY;
  let forcing: Promise<Jwks | undefined> | undefined;
  let built: { jwks: Jwks; keys: TokenKeys } | undefined;

  const keysOf = (jwks: Jwks): TokenKeys => {
    if (built?.jwks !== jwks)
      built = {
        jwks,
        keys: { getKey: createLocalJWKSet(jwks), kids: new Set(jwks.keys.map((key) => key.kid)) },
      };
    return built.keys;
  };

  const forcedRead = (): Promise<Jwks | undefined> => {
    if (forcing) return forcing;
    if (now() - lastForced < FORCED_READ_COOLDOWN_MS) return source({ force: false });
    lastForced = now();
    forcing = source({ force: true }).finally(() => {
      forcing = undefined;
    });
    return forcing;
  };

  return async (kid) => {
    let jwks = await source({ force: false });
    if (!jwks?.keys.some((key) => key.kid === kid)) jwks = (await forcedRead()) ?? jwks;
    if (!jwks) {
      logger.error("no token keys stored: has the refreshTokenKeys job run?", { item: TOKEN_KEYS_ITEM.pk });
      throw new ServiceUnavailableError();
    }
    return keysOf(jwks);
  };
}
