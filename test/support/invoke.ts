import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { routeList } from "../../functions/routes";
import { compileRoute } from "../../infra/local/gateway";
import { authorizerClaims, lambdaContext, proxyEvent } from "../../infra/local/lambda-runtime";
import { verifyAuthorization } from "../../shared/auth";
import { routeLimits } from "../../shared/http/route";
import { unrecorded } from "./faults";

/**
 * Invokes a route's handler in this test process, exactly as the local gateway would (same proxy event,
 * same authorizer claims, same handler module), so a test can reach into the AWS clients the handler
 * uses — to inject faults (`faults.ts`) or count calls — which the gateway's own process keeps to itself.
 */
type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const compiled = routeList.map(compileRoute);
const handlers = new Map<string, Promise<Handler>>();

export type InvokeOptions = { token?: string; body?: unknown; headers?: Record<string, string> };
export type InvokeResult = {
  status: number;
  headers: Record<string, string>;
  json: any;
  requestId: string;
};

export async function invokeRoute(
  method: string,
  path: string,
  options: InvokeOptions = {},
): Promise<InvokeResult> {
  const url = new URL(path, "https://localhost");
  const found = compiled
    .map((route) => ({ route, match: route.regex.exec(url.pathname) }))
    .find(({ route, match }) => match && route.route.method === method);
  if (!found?.match) throw new Error(`no route for ${method} ${url.pathname}`);
  const { route, names } = found.route;
  // API Gateway's Cognito authorizer, emulated: its key read is the gateway's, not the function's, so it
  // is not among the calls a fault test records (the function's own verification then finds keys cached).
  const claims =
    route.auth === "cognito" && options.token
      ? authorizerClaims(await unrecorded(() => verifyAuthorization(`Bearer ${options.token}`)))
      : undefined;
  const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers = {
    ...(body && { "content-type": "application/json" }),
    ...(options.token && { authorization: `Bearer ${options.token}` }),
    "user-agent": "coachvault-tests",
    ...options.headers,
  };
  const requestId = randomUUID();
  const event = proxyEvent({
    route,
    method,
    url,
    rawHeaders: Object.entries(headers).flat(),
    body,
    pathParameters:
      names.length > 0
        ? Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found.match?.[i + 1] ?? "")]))
        : null,
    requestId,
    receivedAt: Date.now(),
    sourceIp: "127.0.0.1",
    ...(claims && { claims }),
  });
  if (!handlers.has(route.id)) {
    const module = fileURLToPath(new URL(`../../functions/${route.handler}.ts`, import.meta.url));
    handlers.set(
      route.id,
      import(/* @vite-ignore */ module).then((loaded) => loaded.handler),
    );
  }
  const handler = await (handlers.get(route.id) as Promise<Handler>);
  const limits = routeLimits(route);
  const result = await handler(
    event,
    lambdaContext(`coachvault-test-${route.id}`, requestId, limits.timeoutSeconds * 1000, limits.memoryMb),
  );
  return {
    status: result.statusCode,
    headers: (result.headers ?? {}) as Record<string, string>,
    json: result.body ? JSON.parse(result.body) : undefined,
    requestId,
  };
}
