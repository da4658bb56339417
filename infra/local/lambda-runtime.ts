import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import type { RouteSpec } from "../../shared/http/route";

/**
 * What the Lambda runtime and API Gateway hand a function, built the same way for the local gateway,
 * the local Lambda endpoint and tests that invoke a handler in-process.
 */
export function lambdaContext(
  functionName: string,
  requestId: string,
  timeoutMs: number,
  memoryMb = 512,
): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: requestId,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
}

export type ProxyRequest = {
  route: RouteSpec;
  method: string;
  url: URL;
  /** Raw header pairs, as received (name, value, name, value …). */
  rawHeaders: readonly string[];
  body: Buffer | undefined;
  pathParameters: Record<string, string> | null;
  requestId: string;
  /** When the gateway received the request (epoch ms): API Gateway's timeout counts from it. */
  receivedAt: number;
  sourceIp: string;
  /** The verified token's claims, as strings (API Gateway joins lists with commas). */
  claims?: Record<string, string>;
};

function headerMaps(rawHeaders: readonly string[]) {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    headers[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return { headers, multi };
}

/** A REST API (v1) Lambda proxy event, as API Gateway builds it behind a Cognito authorizer. */
export function proxyEvent(request: ProxyRequest): APIGatewayProxyEvent {
  const { route, method, url } = request;
  const { headers, multi } = headerMaps(request.rawHeaders);
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const userAgent = Object.entries(headers).find(([name]) => name.toLowerCase() === "user-agent")?.[1];
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders: multi,
    queryStringParameters: url.searchParams.size > 0 ? query : null,
    multiValueQueryStringParameters: url.searchParams.size > 0 ? multiQuery : null,
    pathParameters: request.pathParameters,
    stageVariables: null,
    body: request.body && request.body.length > 0 ? request.body.toString("utf8") : null,
    isBase64Encoded: false,
    requestContext: {
      requestId: request.requestId,
      requestTimeEpoch: request.receivedAt,
      resourcePath: route.path,
      httpMethod: method,
      path: url.pathname,
      stage: "local",
      identity: { sourceIp: request.sourceIp, userAgent: userAgent ?? "" },
      ...(request.claims && { authorizer: { claims: request.claims } }),
    },
  } as unknown as APIGatewayProxyEvent;
}

/** The claims API Gateway's Cognito authorizer passes on: every value a string, lists comma-joined. */
export const authorizerClaims = (verified: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(verified).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]),
  );
