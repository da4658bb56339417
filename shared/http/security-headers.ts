import type middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { RATE_LIMIT_HEADERS } from "../protection/headers";
import type { RouteSpec } from "./route";

/**
 * The headers every response carries, errors included. One constant map shared by the Lambda
 * pipeline, the local gateway's own responses and the CDK app's gateway responses.
 * (@middy/http-security-headers sends CSP and X-Frame-Options only for HTML; an API needs them always.)
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
  "Content-Security-Policy":
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Cache-Control": "no-store",
  Pragma: "no-cache",
};

/** What a browser may send on a cross-origin call, and how long it may cache a preflight's answer. */
export const CORS_ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"] as const;
/** What a browser app may read of a response besides the CORS-safelisted headers. */
export const CORS_EXPOSED_HEADERS = [
  "X-Request-Id",
  "Location",
  "Idempotent-Replayed",
  "Retry-After",
  ...RATE_LIMIT_HEADERS,
  // A compliance report's signature (GET /reports/{reportId}).
  "X-Report-Signature",
  "X-Report-Signature-Algorithm",
  "X-Report-Signing-Key",
  "X-Report-Sha256",
] as const;
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * The CORS headers of a preflight answer to an allowed origin (the local gateway's, and the cloud's
 * OPTIONS methods, which set the same through a template): `methods` are the path's routes' methods.
 */
export function preflightCorsHeaders(origin: string, methods: readonly string[]): Record<string, string> {
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Allow-Methods": methods.join(", "),
    "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS.join(", "),
    "Access-Control-Max-Age": String(CORS_MAX_AGE_SECONDS),
  };
}

/**
 * Headers of the answers the edge makes itself (API Gateway's gateway responses, WAF's block responses,
 * the local gateway's errors). Those are static: they cannot look at the request's Origin. With one
 * allowed origin it is named, so a browser app can read the error; with several none is, since choosing
 * one would mean echoing the request's Origin (any site's), and the browser then sees a network error.
 */
export function edgeResponseHeaders(allowedOrigins: readonly string[]): Record<string, string> {
  const [only] = allowedOrigins;
  return {
    ...SECURITY_HEADERS,
    ...(allowedOrigins.length === 1 && only !== undefined && { "Access-Control-Allow-Origin": only }),
  };
}

/**
 * The security headers on every answer; a route serving a document (`RouteSpec.document`) gets its own
 * Content-Security-Policy on that document's answers only.
 */
export function securityHeaders(
  document?: RouteSpec["document"],
): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const apply = (request: { response: APIGatewayProxyResult | null | undefined }): void => {
    if (!request.response) return;
    const headers = request.response.headers ?? {};
    const isDocument = document !== undefined && headers["Content-Type"] === document.contentType;
    request.response.headers = {
      ...headers,
      ...SECURITY_HEADERS,
      ...(isDocument && { "Content-Security-Policy": document.contentSecurityPolicy }),
    };
  };
  return { after: apply, onError: apply };
}
