import type * as z from "zod";
import type { PhiFields } from "../audit/disclosure";
import type { Action } from "../auth/policy";
import type { Role } from "../auth/roles";
import { DEFAULT_MAX_BODY_BYTES } from "../config";
import type { RateCost } from "../settings/schema";

/**
 * What a route's function may touch in the cloud. The CDK app turns each into the narrowest IAM
 * statement it can (`infra/cloud/permissions.ts`); a function gets nothing it does not list.
 */
export type Permission =
  | "records:read"
  | "records:write"
  | "records:update"
  | "records:delete"
  /** Read the people (users, teams, invitations, held changes, org registry): every Cognito route's function. */
  | "directory:read"
  /**
   * Write the people: users, invitations, held changes, the org registry, Cognito's sync queue. Only the
   * functions that manage people; never one that writes client records for a coach.
   */
  | "directory:write"
  /** Hold a change for a second person, or record a decision on one: the held-change partitions only. */
  | "changes:hold"
  /** Create accounts in the user pool (and read one back by its address): only the invitation job. */
  | "cognito:create-users"
  /** Make an existing account follow the directory: its role group, enabled or disabled. */
  | "cognito:sync-users"
  /** Read users' accounts and groups (never change them): the compliance report's identity checks. */
  | "cognito:read-users"
  | "transcripts:read"
  | "transcripts:write"
  /** Delete transcript objects no record references (a lost upload's, a replaced version's). */
  | "transcripts:delete"
  | "phi:detect"
  | "keys:read"
  /** Read many clients' wrapped keys at once (BatchGetItem): the compliance report's key check. */
  | "keys:read-many"
  | "keys:create"
  | "audit:append"
  /** Write verification jobs' state (`AUDITVERIFY#<org>` partitions of the records table): the verification job only. */
  | "audit:verification"
  | "audit:read"
  /** Read the audit table's stream (the live witness's event source). */
  | "audit:stream"
  /** Read the security table's stream (the signal detectors' event source). */
  | "security:stream"
  /**
   * The detectors: their state (`ORG#<org>#DETECT` / `PLATFORM#DETECT` partitions) and the findings they
   * raise (`ORG#<org>#EVENTS` / `PLATFORM#EVENTS`) in the security table, never its signals.
   */
  | "security:detect"
  /** Read tenant settings (the settings table, through Powertools Parameters). */
  | "settings:read"
  /** The heads the live witness has seen: only the witness writes them; the checkpoint job reads them. */
  | "witness:read"
  | "witness:write"
  | "checkpoints:read"
  | "checkpoints:write"
  | "kms:sign-checkpoints"
  /** List compliance reports: their index rows only (the reports table), never their documents. */
  | "reports:list"
  /** Read compliance reports: their index rows (reports table) and their objects (reports bucket). */
  | "reports:read"
  /** Record a pending compliance report (and note a restart of one): index rows only, no objects. */
  | "reports:request"
  /** Write compliance reports: index rows, and new objects under Object Lock (never delete one). */
  | "reports:write"
  /**
   * Sign compliance reports with the audit signing key (kms:Sign on it, as `kms:sign-checkpoints`: IAM
   * cannot tell the two messages apart, the signed documents' own `schema` fields do).
   */
  | "kms:sign-reports"
  | "kms:verify-checkpoints"
  | "kms:generate-data-key"
  | "kms:decrypt-data-key"
  /** Seal and open list cursors: the deployment's cursor key (its keys-table item, KMS under `{purpose: "list-cursor"}`). */
  | "cursors:seal"
  /** Store the user pool's token keys (the one `DEPLOYMENT#TOKEN_KEYS` records item): the refresh job only. */
  | "auth:token-keys"
  /** Read the stored token keys (that one item only): every route behind the authorizer verifies its token. */
  | "auth:read-token-keys"
  /**
   * Consume the caller's and the org's rate-limit buckets and record what the limiter observes (denials,
   * refusals, blocks) as security signals: every Cognito route's function (shared/protection).
   */
  | "limits:consume"
  /** Lift a principal's block (delete its limiter item): `DELETE /users/{userId}/block` only. */
  | "limits:unblock"
  /**
   * Read tenant settings (GetItem on the settings table): every Cognito route's function, since the rate
   * limiter reads the caller's org's settings on every request; jobs that need settings list it.
   */
  | "settings:read"
  /** Write an org's settings document (in a transaction with its audit entry): `PATCH /settings` only. */
  | "settings:write"
  /** Record security signals (the security table's `…#SIGNALS` partitions, put only): every route behind the authorizer. */
  | "security:signal"
  /** Store findings (their partitions, id markers and the alarm outbox) and publish the outbox's. */
  | "security:findings"
  /** Publish findings to the alarm topic (and its key, through SNS): the functions that raise findings get its ARN. */
  | "security:alert"
  /** Read an org's findings (`ORG#<org>#EVENTS`). */
  | "security:read"
  /**
   * Read, never write, whether monitoring runs: the detectors' state (`…#DETECT`) and the alarm outbox
   * (the compliance report's `security.monitoring-live` and `security.alerts-delivered` checks).
   */
  | "security:observe"
  /**
   * Idempotency-Key records (Powertools Idempotency): only the operations its DynamoDB persistence uses on the
   * idempotency table, and the deployment's digest key (its keys-table item, KMS under `{purpose: "idempotency-digest"}`).
   */
  | "idempotency:use"
  /**
   * Read the stage's AWS configuration for the compliance report's infrastructure checks (read-only: key
   * rotation, table and bucket settings, the user pool, the trail, WAF, log groups, backups, the alarm topic).
   * Jobs only: the API stage it inspects is built from the routes.
   */
  | "compliance:inspect"
  /** Start the job `<id>` of `functions/jobs.ts` (an asynchronous invocation of its function). */
  | `jobs:start:${string}`;

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

/** One entry of the route manifest: everything the pipeline, the gateways and the OpenAPI document need. */
export type RouteSpec = {
  method: HttpMethod;
  /** API Gateway style template, e.g. `/clients/{clientId}`. */
  path: string;
  /** Module under `functions/` exporting `handler`, e.g. `clients/get`. */
  handler: string;
  summary: string;
  /** `none` only for public, PHI-free routes. */
  auth: "cognito" | "none";
  /** Roles that may call the route at all; record-level rules live in the access policy. */
  roles: readonly Role[];
  request?: { body?: z.ZodType; query?: z.ZodType; path?: z.ZodType };
  responses: Readonly<Record<number, { description: string; schema?: z.ZodType }>>;
  /** AWS access its function needs (least privilege, see `Permission`). */
  permissions: readonly Permission[];
  /** Body limit for this route when it must exceed the default `MAX_BODY_BYTES` (transcripts). */
  maxBodyBytes?: number;
  /** Lambda reserved concurrency in the cloud, on stages that reserve it (`reservedConcurrency`); else 10. */
  concurrency?: number;
  /**
   * The PHI this route's responses carry (`discloses`) and its requests write (`writes`), as audit field
   * names. The pipeline withholds a response carrying PHI its committed audit entries do not name.
   */
  phi?: { discloses?: PhiFields; writes?: PhiFields };
  /**
   * The function's timeout and memory (`routeLimits` fills in the defaults). A route answers through API
   * Gateway, whose REST integrations give up after 29 s, so no route may ask for more; longer work is a job.
   */
  timeoutSeconds?: number;
  memoryMb?: number;
  /**
   * `Idempotency-Key` handling (`shared/http/idempotency.ts`): on for every POST and PUT unless the entry
   * says why it is off (it neither creates nor replaces). A route whose responses carry PHI names what a
   * replay's audit entry says: `<resource>.replay`, on the record whose id is the response's `idProperty`.
   */
  idempotency?: IdempotencySpec;
  /**
   * A route whose success answer is a document rather than JSON (a report's HTML): the handler's body is
   * the document's text, sent with this content type and this Content-Security-Policy in place of the
   * API's (`default-src 'none'`); errors stay JSON under the API's policy.
   */
  document?: { contentType: string; contentSecurityPolicy: string };
  /**
   * What one request costs against the rate limits (the org's `rateLimits.costs`): `read` for a GET and
   * `write` otherwise unless stated (`rateCostOf`); uploads and exports cost more.
   */
  rateCost?: RateCost;
};

export type IdempotencySpec =
  | { off: string }
  | {
      replay: {
        resource: string;
        idProperty: string;
        /**
         * On a route with a path `{clientId}`: the action its handler checks on that client. A keyed request
         * is checked for it before the client's key is fetched (to seal the answer), so a caller who may not
         * make the request gets the handler's own 404/403 and no key is unwrapped for them.
         */
        access?: Action;
      };
    };

/** Whether a route takes an `Idempotency-Key`: POST and PUT (creates and replaces) unless turned off with a reason. */
export function takesIdempotencyKey(route: Pick<RouteSpec, "method" | "idempotency">): boolean {
  if (route.method !== "POST" && route.method !== "PUT") return false;
  return !(route.idempotency && "off" in route.idempotency);
}

/**
 * The prefix of a route's idempotency records (Powertools stores `<prefix>#<hash>`): its handler, set
 * explicitly rather than Powertools' default (the function's name, unknown at synth time), so each route's
 * function can be allowed its own records only (IAM `dynamodb:LeadingKeys`).
 */
export const idempotencyKeyPrefix = (route: Pick<RouteSpec, "handler">): string => route.handler;

/** A route's rate cost class: its manifest's, else by method. */
export const rateCostOf = (route: Pick<RouteSpec, "method" | "rateCost">): RateCost =>
  route.rateCost ?? (route.method === "GET" ? "read" : "write");

/** A function's timeout and memory unless its manifest entry says otherwise (routes and jobs alike). */
export const DEFAULT_FUNCTION_LIMITS = { timeoutSeconds: 10, memoryMb: 512 } as const;

/** API Gateway REST API: the integration timeout (29 s) that bounds every synchronous route. */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;

/** A route's timeout and memory: what the CDK app gives its function and the local runtimes its context. */
export function routeLimits(route: Pick<RouteSpec, "path" | "timeoutSeconds" | "memoryMb">) {
  const limits = {
    timeoutSeconds: route.timeoutSeconds ?? DEFAULT_FUNCTION_LIMITS.timeoutSeconds,
    memoryMb: route.memoryMb ?? DEFAULT_FUNCTION_LIMITS.memoryMb,
  };
  if (limits.timeoutSeconds > API_GATEWAY_TIMEOUT_SECONDS)
    throw new Error(`route ${route.path}: timeout over API Gateway's ${API_GATEWAY_TIMEOUT_SECONDS} s`);
  return limits;
}

/**
 * The largest body a route accepts as deployed: none without a body schema (the pipeline refuses any
 * body), else its manifest's `maxBodyBytes` or the default. The WAF's per-route size rules come from this.
 */
export function bodyLimitBytes(route: Pick<RouteSpec, "request" | "maxBodyBytes">): number {
  if (!route.request?.body) return 0;
  return route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
}

export function defineRoute<const T extends RouteSpec>(spec: T): T {
  return spec;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

export type RouteInput<R extends RouteSpec> = {
  body: Infer<NonNullable<R["request"]>["body"]>;
  query: Infer<NonNullable<R["request"]>["query"]>;
  path: Infer<NonNullable<R["request"]>["path"]>;
};
