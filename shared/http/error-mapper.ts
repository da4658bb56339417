import type { APIGatewayProxyResult } from "aws-lambda";
import { logger } from "../log";
import { AppError } from "./errors";

/** The single place errors become HTTP: typed errors keep their status and code; anything else is a 500. */
export function toHttpResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  if (error instanceof AppError) {
    if (error.status >= 500) logger.error("request failed", { code: error.code, error });
    return json(error.status, {
      error: {
        code: error.code,
        message: error.message,
        requestId,
        ...(error.details ? { details: error.details } : {}),
      },
    });
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
