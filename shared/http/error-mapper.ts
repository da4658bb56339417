import type { APIGatewayProxyResult } from "aws-lambda";
import { AppError, type ErrorKind } from "../errors";
import { logger } from "../log";

/** The one place an error kind becomes an HTTP status. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unprocessable: 422,
  unsupported_media: 415,
  unavailable: 503,
  integrity: 500,
  internal: 500,
};

export const statusOf = (error: AppError) => STATUS_BY_KIND[error.kind];

/** Typed errors keep their code and map to a status by kind; anything else is a generic 500. */
export function toHttpResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  if (error instanceof AppError) {
    const status = statusOf(error);
    if (error.kind === "unavailable") logger.warn("request failed, retryable", { code: error.code, error });
    else if (status >= 500) logger.error("request failed", { code: error.code, error });
    return json(
      status,
      {
        error: {
          code: error.code,
          message: error.message,
          requestId,
          ...(error.details ? { details: error.details } : {}),
        },
      },
      error.retryAfterSeconds === undefined ? {} : { "Retry-After": String(error.retryAfterSeconds) },
    );
  }
  logger.error("unexpected error", { error: error instanceof Error ? error : { name: typeof error } });
  return json(500, { error: { code: "INTERNAL_ERROR", message: "Something went wrong.", requestId } });
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}
