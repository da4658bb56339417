import { isThrottlingError } from "@smithy/core/retry";
import { ServiceUnavailableError } from "../errors";

/**
 * Many calls to one AWS service for one request (DetectPHI on each chunk of a transcript): at most
 * `concurrency` in flight, results in the order of the inputs, and a throttled call retried with
 * exponential backoff and full jitter. Bounded twice: a call is tried at most `maxAttempts` times, and
 * no call or retry starts after `deadline`, so the work ends with a clean 503 while the function still
 * has time to answer, instead of being cut off by its timeout.
 */
export type FanOutOptions = {
  concurrency: number;
  /** Epoch milliseconds after which no call or retry starts. */
  deadline: number;
  maxAttempts?: number;
  /** Backoff before retry n (from 0): a random wait in [0, min(maxDelayMs, baseDelayMs · 2ⁿ)). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Seams for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
};

const DEFAULTS = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 2000 };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A throttled AWS call, as `shared/aws` hands it on once the SDK's own retries are spent: a
 * `ServiceUnavailableError` whose cause the SDK classifies as throttling.
 */
export function isThrottled(error: unknown): boolean {
  return (
    error instanceof ServiceUnavailableError &&
    error.cause instanceof Error &&
    isThrottlingError(error.cause as never)
  );
}

async function withRetries<R>(call: (signal: AbortSignal) => Promise<R>, options: FanOutOptions): Promise<R> {
  const { maxAttempts, baseDelayMs, maxDelayMs } = { ...DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    if (now() >= options.deadline) throw new ServiceUnavailableError();
    // A call still running at the deadline is abandoned: the request must answer while it still can.
    const signal = AbortSignal.timeout(Math.max(1, options.deadline - now()));
    try {
      return await call(signal);
    } catch (error) {
      if (signal.aborted) throw new ServiceUnavailableError("SERVICE_UNAVAILABLE", { cause: error });
      if (!isThrottled(error)) throw error;
      const delay = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
      if (attempt + 1 >= maxAttempts || now() + delay >= options.deadline) throw error;
      await sleep(delay);
    }
  }
}

/**
 * `call` on every item, at most `concurrency` at once; the first failure stops new calls and is thrown.
 * Each call gets a signal that aborts it at the deadline (pass it to the SDK's `send`).
 */
export async function fanOut<T, R>(
  items: readonly T[],
  call: (item: T, signal: AbortSignal) => Promise<R>,
  options: FanOutOptions,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await withRetries((signal) => call(items[index] as T, signal), options);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure) throw failure.error;
  return results;
}
