import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import { accessClient } from "../access";
import { appendWithItems, auditEntry, phiFieldsIn, type RequestMeta } from "../audit";
import type { Principal } from "../auth/principal";
import { aws } from "../aws";
import { getConfig } from "../config";
import {
  DataKeyUnavailableError,
  type FieldBinding,
  getDataKey,
  keyedDigest,
  openField,
  sealField,
} from "../crypto";
import { AppError, ConfigError, NotFoundError, ServiceUnavailableError, ValidationError } from "../errors";
import { logger } from "../log";
import { idempotencyKeyPrefix, type RouteSpec, takesIdempotencyKey } from "./route";

/**
 * Idempotent retries (IETF draft-ietf-httpapi-idempotency-key-header): a POST or PUT that carries an
 * `Idempotency-Key` runs once per key; a retry with the same key and the same request gets the first
 * answer again (`Idempotent-Replayed: true`) and writes nothing. Powertools Idempotency does the
 * bookkeeping (its DynamoDB persistence, on our own SDK client so faults, counts and error classes apply).
 *
 * What Powertools sees and stores is never the request itself:
 * - the key it hashes is an HMAC (the deployment's digest key) of org, principal, method, path template,
 *   path parameters and the header's value, so keys never collide across tenants, users or routes;
 * - the payload it validates is an HMAC of the canonical validated body and query, so its stored hash
 *   cannot be reversed by guessing a small PHI body;
 * - the response it stores is sealed under the client's data key (AES-256-GCM, AAD binding org, client,
 *   this record and the purpose) when the route can disclose PHI: crypto-shredding a client shreds it too.
 */
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";
/** How long a key's first answer is kept (and the key cannot be reused with another request). */
export const IDEMPOTENCY_EXPIRY_SECONDS = 24 * 60 * 60;
/** 1 to 255 visible ASCII characters (a UUID, or the draft's quoted sf-string form of one). */
export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const RESPONSE_PURPOSE = "idempotent-response";

export class IdempotencyKeyReusedError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    super(
      "IDEMPOTENCY_KEY_REUSED",
      "unprocessable",
      "This Idempotency-Key was already used with a different request.",
      options,
    );
  }
}

export class IdempotencyInProgressError extends AppError {
  constructor(options: { cause?: unknown } = {}) {
    super(
      "IDEMPOTENCY_IN_PROGRESS",
      "conflict",
      "A request with this Idempotency-Key is still being processed; retry later.",
      { ...options, retryAfterSeconds: 1 },
    );
  }
}

/** The header's value, or undefined without one; a malformed one is a 400 naming the header, never echoing it. */
export function readIdempotencyKey(
  headers: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const value = headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()] ?? headers[IDEMPOTENCY_KEY_HEADER];
  if (value === undefined) return undefined;
  if (!KEY_PATTERN.test(value))
    throw new ValidationError([
      { field: `header:${IDEMPOTENCY_KEY_HEADER}`, rule: "1 to 255 visible ASCII characters" },
    ]);
  return value;
}

/** What a key is scoped to: the same header value from another org, user, route or record is another key. */
export function idempotencyScope(
  route: Pick<RouteSpec, "method" | "path">,
  principal: Pick<Principal, "orgId" | "userId">,
  pathParameters: Readonly<Record<string, string | undefined>> | null,
  key: string,
) {
  return [
    "idempotency-key",
    principal.orgId,
    principal.userId,
    route.method,
    route.path,
    pathParameters ?? {},
    key,
  ] as const;
}

/** What Powertools reads from each request: the scoped key and the request's digest, both keyed HMACs. */
export type IdempotencyPayload = { key: string; request: string };

export async function idempotencyPayload(
  scope: ReturnType<typeof idempotencyScope>,
  request: { body: unknown; query: unknown },
): Promise<IdempotencyPayload> {
  const [key, digest] = await Promise.all([
    keyedDigest(scope),
    keyedDigest(["idempotency-request", request.body ?? null, request.query ?? null]),
  ]);
  return { key, request: digest };
}

/** A route's first answer as stored: in the clear when the route discloses no PHI, else sealed. */
type Stored = {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  sealed?: { clientId: string; body: string };
};
export type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

const responseBinding = (orgId: string, clientId: string, recordKey: string): FieldBinding => ({
  orgId,
  clientId,
  recordId: `idempotency#${recordKey}`,
  field: RESPONSE_PURPOSE,
  version: 1,
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The client whose PHI a route's answer carries: the path's `{clientId}`, else the answer's (a new client). */
function subjectOf(path: unknown, body: unknown): string | undefined {
  const fromPath = isRecord(path) ? path.clientId : undefined;
  if (typeof fromPath === "string") return fromPath;
  const fromBody = isRecord(body) ? body.clientId : undefined;
  return typeof fromBody === "string" ? fromBody : undefined;
}

/** One persistence layer per route: Powertools configures a layer once, with its key prefix. */
const layers = new Map<string, { client: unknown; layer: DynamoDBPersistenceLayer }>();
function persistenceFor(route: RouteSpec): DynamoDBPersistenceLayer {
  const client = aws("dynamoRaw");
  const known = layers.get(route.handler);
  if (known?.client === client) return known.layer;
  const layer = new DynamoDBPersistenceLayer({
    tableName: getConfig().TABLE_IDEMPOTENCY,
    awsSdkV3Client: client,
  });
  layers.set(route.handler, { client, layer });
  return layer;
}

export type IdempotentRequest = {
  route: RouteSpec;
  principal: Principal | undefined;
  meta: RequestMeta;
  headers: Readonly<Record<string, string | undefined>>;
  pathParameters: Readonly<Record<string, string | undefined>> | null;
  input: { body: unknown; query: unknown; path: unknown };
  context: Context;
};

/**
 * Runs `run` once per Idempotency-Key (when the route takes one and the request carries it); a replay
 * answers the first answer. A first request that fails leaves no record (Powertools deletes it), so its
 * retry runs again. Known limit: a transaction that committed but whose answer was lost after the SDK's
 * retries (those carry the SDK's own ClientRequestToken, so they are no-ops) fails the request, and its
 * retry creates again; a token derived from the key would not make that retry a no-op, since it is a new
 * transaction (new record id, audit entry and chain sequence) that DynamoDB refuses as a mismatch.
 */
export async function runIdempotently(
  request: IdempotentRequest,
  run: () => Promise<Answer>,
): Promise<Answer> {
  const { route, principal } = request;
  if (!takesIdempotencyKey(route)) return run();
  const headerKey = readIdempotencyKey(request.headers);
  if (headerKey === undefined || !principal) return run();
  const payload = await idempotencyPayload(
    idempotencyScope(route, principal, request.pathParameters, headerKey),
    request.input,
  );
  const pathClient = route.phi?.discloses ? subjectOf(request.input.path, undefined) : undefined;
  if (pathClient) await sealingKeyFor(route, principal, pathClient);

  let replayed = false;
  let produced: Answer | undefined;
  let stored: Stored | undefined;
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "key",
    payloadValidationJmesPath: "request",
    expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
    hashFunction: "sha256",
    throwOnNoIdempotencyKey: true,
    responseHook: (response) => {
      replayed = true;
      return response;
    },
  });
  // An in-progress record expires with this invocation's time left: a crashed first attempt frees its key.
  config.registerLambdaContext(request.context);
  const persistence = persistenceFor(route);
  const once = makeIdempotent(
    async (_payload: IdempotencyPayload) => {
      produced = await run();
      stored = await storable(request, payload.key, produced);
      return stored;
    },
    { persistenceStore: persistence, config, keyPrefix: idempotencyKeyPrefix(route) },
  );

  let answer: Stored;
  try {
    answer = (await once(payload)) as Stored;
  } catch (error) {
    if (produced && stored) return savedLate(persistence, payload, stored, produced, error);
    throw translated(error);
  }
  if (!replayed) return produced as Answer;
  return replay(request, payload.key, answer);
}

/**
 * A route whose answer carries a path client's PHI needs that client's key to seal it: fetched before the
 * work, so a failing key fetch cannot fail a request whose writes already committed. Only for a request the
 * caller may make (the handler's own access check first: its 404/403 otherwise, and no key unwrapped), and a
 * key that is gone (crypto-shredded) is the same 404 as a client that does not exist.
 */
async function sealingKeyFor(route: RouteSpec, principal: Principal, clientId: string): Promise<void> {
  const action =
    route.idempotency && "replay" in route.idempotency ? route.idempotency.replay.access : undefined;
  if (!action) throw new ConfigError(`route ${route.handler}: no access action declared for its path client`);
  await accessClient(principal, clientId, action);
  try {
    await getDataKey({ orgId: principal.orgId, clientId });
  } catch (error) {
    if (error instanceof DataKeyUnavailableError) throw new NotFoundError();
    throw error;
  }
}

/**
 * The work committed but recording its answer failed: the record is still in progress. One more try (a
 * lost answer or a throttled write usually goes through); either way the caller gets its real answer.
 */
async function savedLate(
  persistence: DynamoDBPersistenceLayer,
  payload: IdempotencyPayload,
  stored: Stored,
  produced: Answer,
  error: unknown,
): Promise<Answer> {
  try {
    // Stored is JSON by construction (a validated answer, or sealed text).
    await persistence.saveSuccess(payload, stored as never);
  } catch (again) {
    logger.error("idempotency record left in progress after the work committed", {
      securityEvent: "IDEMPOTENCY_RECORD_UNSAVED",
      error: again instanceof Error ? again : error,
    });
  }
  return produced;
}

/** Powertools' errors as the API's: 422 reused, 409 in progress, 503 when its store failed. */
function translated(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  switch (error.name) {
    case "IdempotencyValidationError":
      return new IdempotencyKeyReusedError({ cause: error });
    case "IdempotencyAlreadyInProgressError":
      return new IdempotencyInProgressError({ cause: error });
    case "IdempotencyPersistenceLayerError":
    case "IdempotencyItemNotFoundError":
    case "IdempotencyInconsistentStateError":
    case "IdempotencyUnknownError":
      return new ServiceUnavailableError("SERVICE_UNAVAILABLE", { cause: error });
    default:
      return error;
  }
}

/** The answer as Powertools keeps it: sealed under the client's data key when the route can disclose PHI. */
async function storable(request: IdempotentRequest, recordKey: string, answer: Answer): Promise<Stored> {
  const base = { status: answer.status, headers: answer.headers ?? {} };
  if (!request.route.phi?.discloses) return answer.body === undefined ? base : { ...base, body: answer.body };
  const principal = request.principal as Principal;
  const clientId = subjectOf(request.input.path, answer.body);
  if (!clientId) throw new ConfigError(`route ${request.route.handler}: no client to seal its answer under`);
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  const binding = responseBinding(principal.orgId, clientId, recordKey);
  return { ...base, sealed: { clientId, body: sealField(key, answer.body ?? null, binding) } };
}

/**
 * The first answer again. One that carries PHI is a disclosure like a read: the caller must still be
 * allowed to read the client, and an audit entry naming the fields commits before it is answered.
 */
async function replay(request: IdempotentRequest, recordKey: string, stored: Stored): Promise<Answer> {
  const headers = { ...stored.headers, [REPLAYED_HEADER]: "true" };
  if (!stored.sealed) return { status: stored.status, body: stored.body, headers };
  const { route, meta } = request;
  const principal = request.principal as Principal;
  const { clientId } = stored.sealed;
  const spec = route.idempotency && "replay" in route.idempotency ? route.idempotency.replay : undefined;
  if (!spec) throw new ConfigError(`route ${route.handler}: no replay audit declared`);
  const access = await accessClient(principal, clientId, "client:read");
  const key = await getDataKey({ orgId: principal.orgId, clientId });
  const body = openField(key, stored.sealed.body, responseBinding(principal.orgId, clientId, recordKey));
  const fields = phiFieldsIn(route.phi?.discloses, body);
  if (fields.length > 0) {
    const id = isRecord(body) ? body[spec.idProperty] : undefined;
    await appendWithItems(
      auditEntry(
        principal,
        meta,
        `${spec.resource}.replay`,
        { type: spec.resource, id: typeof id === "string" ? id : "*", clientId },
        fields,
        access,
      ),
    );
  }
  return { status: stored.status, body, headers };
}
