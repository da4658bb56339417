import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import type { MiddlewareStack } from "@smithy/types";
import { ServiceUnavailableError } from "../errors";

/**
 * What an AWS failure means to a caller. A throttled, timed-out or failing (5xx) call that the SDK's own
 * retries did not get through becomes a typed `ServiceUnavailableError` (503, `Retry-After`) with the
 * SDK error as its cause, so no handler needs to know SDK error names and none of them becomes a 500.
 * Everything else (a failed condition, a missing resource, a refused request) passes through unchanged
 * for the code that expects it. The classification is the SDK's own (`@smithy/core/retry`).
 */
export const isTransientAwsError = (error: unknown): boolean =>
  error instanceof Error &&
  !(error instanceof ServiceUnavailableError) &&
  (isThrottlingError(error as never) || isTransientError(error as never) || isServerError(error as never));

export const ERROR_CLASSIFIER = "coachVaultErrorClassifier";

// biome-ignore lint/suspicious/noExplicitAny: every SDK client shares this middleware-stack shape
export function classifyErrors<C extends { middlewareStack: MiddlewareStack<any, any> }>(client: C): C {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (isTransientAwsError(error))
          throw new ServiceUnavailableError("SERVICE_UNAVAILABLE", { cause: error });
        throw error;
      }
    },
    // Outermost: it sees what is left after the SDK's retries (which sit further in, at finalizeRequest).
    { step: "initialize", priority: "high", name: ERROR_CLASSIFIER },
  );
  return client;
}
