import type middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";

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

function apply(request: { response: APIGatewayProxyResult | null | undefined }): void {
  if (!request.response) return;
  request.response.headers = { ...request.response.headers, ...SECURITY_HEADERS };
}

export function securityHeaders(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return { after: apply, onError: apply };
}
