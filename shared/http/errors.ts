import { AppError } from "../errors";

/**
 * Errors that only exist at the HTTP edge (how a body arrived). Everything else is in the
 * ground-floor taxonomy, `shared/errors.ts`, or beside its module; `error-mapper.ts` maps kinds to statuses.
 */
export class MalformedJsonError extends AppError {
  constructor() {
    super("MALFORMED_JSON", "invalid", "The request body is not valid JSON.");
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super("UNSUPPORTED_MEDIA_TYPE", "unsupported_media", "The request body must be application/json.");
  }
}

export class PayloadTooLargeError extends AppError {
  constructor() {
    super("PAYLOAD_TOO_LARGE", "too_large", "The request body is too large.");
  }
}

/**
 * The answers a gateway gives before any function runs, alike locally (`infra/local/gateway.ts`) and in the
 * cloud (API Gateway's gateway responses, `infra/cloud/gateway-responses.ts`).
 */
export const GATEWAY_ERRORS = {
  notFound: { status: 404, code: "NOT_FOUND", message: "Not found." },
  unauthorized: { status: 401, code: "UNAUTHORIZED", message: "A valid token is required." },
  tooLarge: { status: 413, code: "PAYLOAD_TOO_LARGE", message: new PayloadTooLargeError().message },
} as const;
