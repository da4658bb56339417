import type { MiddlewareStack } from "@smithy/types";

/**
 * Counts AWS calls per service and operation in the SDK middleware stack, so the benchmark can report
 * calls per request without wrapping call sites.
 */
const counts = new Map<string, number>();

// biome-ignore lint/suspicious/noExplicitAny: every SDK client shares this middleware-stack shape
export function countCalls<C extends { middlewareStack: MiddlewareStack<any, any> }>(
  client: C,
  service: string,
): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = `${service}:${String(context.commandName ?? "unknown")}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "coachVaultCallCounter" },
  );
  return client;
}

export function awsCallCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}

export function resetAwsCallCounts(): void {
  counts.clear();
}
