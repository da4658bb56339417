import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import httpCors from "@middy/http-cors";
import httpHeaderNormalizer from "@middy/http-header-normalizer";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import * as z from "zod";
import { AccountDisabledError } from "../access";
import { AuditIncompleteError, type RequestMeta, recordingAppends, unnamedPhi } from "../audit";
import { type Principal, principalFromClaims } from "../auth/principal";
import { verifyAuthorization } from "../auth/verifier";
import { getConfig } from "../config";
import { AppError, ForbiddenError } from "../errors";
import { logger } from "../log";
import { getUser } from "../people";
import {
  type Admission,
  admit,
  rateLimitHeaders,
  recordDenial,
  TemporarilyBlockedError,
} from "../protection";
import { signalInactiveAccount } from "../security";
import { json, toHttpResponse } from "./error-mapper";
import { runIdempotently } from "./idempotency";
import { parseJsonBody } from "./json-body";
import { API_GATEWAY_TIMEOUT_SECONDS, type RouteInput, type RouteSpec, rateCostOf } from "./route";
import { CORS_EXPOSED_HEADERS, securityHeaders } from "./security-headers";
import { validatePart } from "./validation";

export type HandlerArgs<R extends RouteSpec> = RouteInput<R> & {
  principal: R["auth"] extends "cognito" ? Principal : undefined;
  meta: RequestMeta;
  /**
   * Milliseconds left to answer: before the function times out (its manifest `timeoutSeconds`) or API
   * Gateway gives up (29 s from receiving the request), whichever is first. Long work stops in time.
   */
  remainingMs: () => number;
};

export type HandlerResult = { status: number; body?: unknown; headers?: Record<string, string> };

type Event = APIGatewayProxyEvent;
type State = { principal?: Principal; input?: RouteInput<RouteSpec>; admission?: Admission };
type PipelineContext = Context & { state: State };
type Middleware = middy.MiddlewareObj<Event, APIGatewayProxyResult, Error, PipelineContext>;

/**
 * The token says who the caller is; the user directory says whether they may still act and in which
 * role, so disabling someone or changing their role takes effect on their next request.
 */
async function currentPrincipal(fromToken: Principal): Promise<Principal> {
  const user = await getUser(fromToken.orgId, fromToken.userId);
  if (!user) throw new ForbiddenError();
  if (user.status !== "active") throw new AccountDisabledError();
  return { ...fromToken, role: user.role };
}

/** Principal from the verified token; the org and role never come from the request itself. */
const authenticate = (route: RouteSpec): Middleware => ({
  before: async ({ event, context }) => {
    context.state = {};
    if (route.auth === "none") return;
    const claims = await verifyAuthorization(event.headers.authorization);
    context.state.principal = await currentPrincipal(principalFromClaims(claims));
    logger.appendKeys({ orgId: context.state.principal.orgId, role: context.state.principal.role });
  },
});

/**
 * Rate limits and blocks (shared/protection), right after authentication and before anything else: a
 * blocked or limited principal learns nothing more (not even whether their role may call the route). An
 * authorization denial on the way back is a strike toward a block.
 */
const protect = (route: RouteSpec): Middleware => ({
  before: async ({ event, context }) => {
    const principal = context.state.principal;
    if (!principal) return;
    context.state.admission = await admit(principal, rateCostOf(route), observed(route, event, context));
    if (context.state.admission.refusal) throw context.state.admission.refusal;
  },
  onError: async ({ event, context, error }) => {
    const { principal, admission } = context.state;
    if (!principal || !admission || !(error instanceof AppError) || error.kind !== "forbidden") return;
    if (error instanceof TemporarilyBlockedError) return;
    const reason = route.roles.includes(principal.role) ? "policy" : "role";
    await recordDenial(principal, admission.settings, { ...observed(route, event, context), reason });
  },
});

const observed = (route: RouteSpec, event: Event, context: Context) => ({
  route: route.handler,
  requestId: context.awsRequestId,
  ip: event.requestContext?.identity?.sourceIp ?? "unknown",
});

/** The RateLimit header fields on every answer the limiter took part in, refusals included. */
const rateLimitFields = (): Middleware => {
  const add = (request: middy.Request<Event, APIGatewayProxyResult, Error, PipelineContext>) => {
    const policies = request.context.state?.admission?.policies;
    if (!request.response || !policies) return;
    request.response.headers = { ...request.response.headers, ...rateLimitHeaders(policies) };
  };
  return { after: add, onError: add };
};

const authorizeRole = (route: RouteSpec): Middleware => ({
  before: ({ context }) => {
    const role = context.state.principal?.role;
    if (route.auth === "cognito" && (!role || !route.roles.includes(role))) throw new ForbiddenError();
  },
});

const NO_PARAMETERS = z.strictObject({}).transform(() => undefined);

/**
 * Time left to answer: the function's own, or API Gateway's (its 29 s count from when it received the
 * request, cold start and authorizer included), whichever ends first.
 */
function remainingFor(event: Event, context: Context): number {
  const received = event.requestContext?.requestTimeEpoch;
  const gateway = received
    ? received + API_GATEWAY_TIMEOUT_SECONDS * 1000 - Date.now()
    : Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(context.getRemainingTimeInMillis(), gateway));
}

/** JSON body (size-limited, prototype keys refused), then strict Zod validation of body, query and path. */
const parseAndValidate = (route: RouteSpec): Middleware => ({
  before: ({ event, context }) => {
    const schemas = route.request ?? {};
    const body = parseJsonBody(
      event,
      route.maxBodyBytes ?? getConfig().MAX_BODY_BYTES,
      Boolean(schemas.body),
    );
    const query = event.queryStringParameters ?? {};
    const path = event.pathParameters ?? {};
    context.state.input = {
      body: schemas.body ? validatePart(schemas.body, body, "body") : undefined,
      query: validatePart(schemas.query ?? NO_PARAMETERS, query, "query"),
      path: schemas.path ? validatePart(schemas.path, path, "path") : undefined,
    };
  },
});

/**
 * A request by a disabled account becomes an `inactive_account` security signal, by org and user (its token
 * is verified again here to name them: a rare path). A missing or invalid token never reaches a function:
 * the gateway's authorizer answers it, and its 401s become signals there (the local gateway; the access
 * log's subscription in the cloud, `functions/security/log-signals.job.ts`). Recording never changes the
 * answer.
 */
const signalInactiveAccounts = (route: RouteSpec): Middleware => ({
  onError: async ({ error, event, context }) => {
    if (!(error instanceof AccountDisabledError)) return;
    const requestId = context.awsRequestId;
    try {
      const { orgId, userId } = principalFromClaims(await verifyAuthorization(event.headers.authorization));
      const ip = event.requestContext?.identity?.sourceIp ?? "unknown";
      await signalInactiveAccount({ orgId, userId, ip, route: route.handler, requestId });
    } catch {
      logger.warn("security signal not recorded", { signal: "inactive_account", requestId });
    }
  },
});

const errorMapper = (): Middleware => ({
  onError: (request) => {
    request.response = toHttpResponse(request.error, request.context.awsRequestId);
  },
});

/** CORS from the configured app origins only; built on first use so importing a handler needs no settings. */
function corsFromConfig(): Middleware {
  let cors: ReturnType<typeof httpCors> | undefined;
  const get = () => {
    cors ??= httpCors({
      origins: getConfig().ALLOWED_ORIGINS,
      exposeHeaders: CORS_EXPOSED_HEADERS.join(", "),
    });
    return cors;
  };
  return {
    after: (request) => get().after?.(request as never),
    onError: (request) => get().onError?.(request as never),
  };
}

const requestIdHeader = (): Middleware => {
  const add = (request: middy.Request<Event, APIGatewayProxyResult, Error, PipelineContext>) => {
    if (!request.response) return;
    request.response.headers = { ...request.response.headers, "X-Request-Id": request.context.awsRequestId };
    logger.info("request completed", { status: request.response.statusCode });
  };
  return { after: add, onError: add };
};

/**
 * The one way to declare an HTTP handler: a manifest route and a function from validated input (and the
 * caller's principal) to a result. Everything else — headers, CORS, auth, validation, errors — is here.
 */
export function createHandler<R extends RouteSpec>(
  route: R,
  fn: (args: HandlerArgs<R>) => Promise<HandlerResult>,
) {
  return middy<Event, APIGatewayProxyResult, Error, PipelineContext>()
    .use(httpHeaderNormalizer())
    .use(securityHeaders(route.document))
    .use(corsFromConfig())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(requestIdHeader())
    .use(rateLimitFields())
    .use(errorMapper())
    .use(signalInactiveAccounts(route))
    .use(authenticate(route))
    .use(protect(route))
    .use(authorizeRole(route))
    .use(parseAndValidate(route))
    .handler(async (event, context) => {
      const input = context.state.input as RouteInput<R>;
      const principal = context.state.principal;
      const meta: RequestMeta = {
        requestId: context.awsRequestId,
        sourceIp: event.requestContext?.identity?.sourceIp ?? "unknown",
        userAgent: (event.headers["user-agent"] ?? "unknown").slice(0, 256),
      };
      const { result, appended } = await recordingAppends(() =>
        // With an Idempotency-Key, a retry of a create or replace answers the first answer (idempotency.ts).
        runIdempotently(
          {
            route,
            principal,
            meta,
            headers: event.headers,
            pathParameters: event.pathParameters,
            input,
            context,
          },
          () =>
            fn({
              ...input,
              principal: principal as HandlerArgs<R>["principal"],
              meta,
              remainingMs: () => remainingFor(event, context),
            }),
        ),
      );
      // Fail closed: PHI leaves only when a committed audit entry names every PHI field it carries.
      const unnamed = unnamedPhi(route.phi?.discloses, result.body, appended);
      if (unnamed.length > 0) {
        logger.error("response withheld: it carries PHI its audit entries do not name", {
          securityEvent: "AUDIT_DISCLOSURE_MISMATCH",
          route: route.handler,
          fields: unnamed,
        });
        throw new AuditIncompleteError();
      }
      if (route.document && typeof result.body === "string")
        return {
          statusCode: result.status,
          headers: { ...result.headers, "Content-Type": route.document.contentType },
          body: result.body,
        };
      return json(result.status, result.body, result.headers);
    });
}
