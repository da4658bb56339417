import { createHmac } from "node:crypto";
import canonicalize from "canonicalize";
import { type DeploymentKey, deploymentKey } from "./deployment-key";

/**
 * The deployment's digest key (`deployment-key.ts`, KMS context `{ purpose: "idempotency-digest" }`):
 * HMAC-SHA-256 over canonical JSON, for digests that must not be reversible by guessing. An unkeyed hash of
 * a small body (a name and a birth date) can be found by trying candidates; without this key it cannot.
 */
export const DIGEST_KEY_CONTEXT = { purpose: "idempotency-digest" } as const;
export const DIGEST_KEY_ITEM = { pk: "DEPLOYMENT#IDEMPOTENCY_DIGEST_KEY" } as const;
const DIGEST_KEY: DeploymentKey = { context: DIGEST_KEY_CONTEXT, item: DIGEST_KEY_ITEM };

/** base64url(HMAC-SHA-256(digest key, canonical JSON of `value`)): `value` is any JSON (a tuple of parts). */
export async function keyedDigest(value: unknown): Promise<string> {
  const key = await deploymentKey(DIGEST_KEY);
  return createHmac("sha256", key)
    .update(canonicalize(value) ?? "null")
    .digest("base64url");
}
