import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { type Jwks, JwksSchema, TOKEN_KEYS_ITEM } from "../../shared/auth";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { IntegrityError, ServiceUnavailableError } from "../../shared/errors";
import { createJob, type JobRun } from "../../shared/jobs";
import { logger } from "../../shared/log";

/** A JWKS is a few kilobytes; anything far larger is not the pool's. */
const MAX_JWKS_BYTES = 64 * 1024;

/**
 * The pool's JWKS from Cognito (`COGNITO_JWKS_URL`: the regional Cognito URL in the cloud, cognito-local's
 * locally), checked to be a set of RSA signing keys before anything is stored. Unreachable, slow or
 * failing: a retryable error, and the stored set stays as it was.
 */
export async function fetchTokenKeys(url: string, timeoutMs: number): Promise<Jwks> {
  let text: string;
  try {
    const response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    text = await response.text();
  } catch (cause) {
    throw new ServiceUnavailableError("TOKEN_KEYS_UNREACHABLE", { cause });
  }
  let body: unknown;
  try {
    body = text.length <= MAX_JWKS_BYTES ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const parsed = JwksSchema.safeParse(body);
  if (!parsed.success) throw new IntegrityError();
  return parsed.data;
}

/**
 * The `refreshTokenKeys` job: stores the pool's current JWKS where every function reads it
 * (`shared/auth/token-keys.ts`), exactly as Cognito publishes it, so a key Cognito adds is usable within
 * one run (and a function that meets its `kid` first reads again at once) and a key Cognito withdraws
 * stops verifying within one run plus `TOKEN_KEYS_MAX_AGE_SECONDS`. Runs on every deploy that creates or
 * changes it (so the first request of a new stack finds keys), every 5 minutes, and at local start.
 */
export const run: JobRun<unknown, { kids: string[] }> = async () => {
  const config = getConfig();
  const jwks = await fetchTokenKeys(config.COGNITO_JWKS_URL, config.AWS_REQUEST_TIMEOUT_MS);
  await aws("dynamo").send(
    new PutCommand({
      TableName: config.TABLE_RECORDS,
      Item: { ...TOKEN_KEYS_ITEM, value: JSON.stringify(jwks), fetchedAt: new Date().toISOString() },
    }),
  );
  const kids = jwks.keys.map((key) => key.kid);
  logger.info("token keys stored", { kids });
  return { kids };
};

export const handler = createJob("refreshTokenKeys", run, { runOnDeploy: true });
