import { logger } from "../log";
import { recordSignal, type Signal } from "./signals";

/**
 * Signals of requests refused for who the caller is, as the request pipeline sees them: a missing or
 * invalid token (401, no org known: the IP and the route only, never the token) and a request by an
 * account that is disabled (the org and the user). Recording one never changes the answer: a failure is
 * logged (ids only) and swallowed.
 *
 * A flood of invalid tokens must not become one item per request. Per function instance, 401s are counted
 * per IP and minute: the first `EXACT_UP_TO` of an IP's minute are written one by one (so a detector's low
 * thresholds see each of them at once), then only when the count reaches a power of two, as one item
 * whose `count` is what was seen since the previous write. An IP sending n 401s a minute to one instance
 * costs at most EXACT_UP_TO + log2(n) writes, and what a minute's end leaves unwritten is less than half
 * of its count. At most `MAX_IPS` IPs per minute are counted apart; beyond them, all others share one
 * aggregate without an IP (`reason: "overflow"`), so a botnet of many addresses is bounded too.
 */
export const EXACT_UP_TO = 5;
export const MAX_IPS = 100;
const OVERFLOW = "*";

type Tally = { count: number; written: number };
let minute = "";
let tallies = new Map<string, Tally>();

const isPowerOfTwo = (n: number) => (n & (n - 1)) === 0;

/** How many of this IP's 401s the signal to write now stands for, or 0 to write nothing. */
export function tallyUnauthenticated(ip: string, now: Date): { count: number; overflow: boolean } {
  const current = now.toISOString().slice(0, 16);
  if (current !== minute) {
    minute = current;
    tallies = new Map();
  }
  const overflow = !tallies.has(ip) && tallies.size >= MAX_IPS;
  const key = overflow ? OVERFLOW : ip;
  const tally = tallies.get(key) ?? { count: 0, written: 0 };
  tallies.set(key, tally);
  tally.count++;
  if (tally.count > EXACT_UP_TO && !isPowerOfTwo(tally.count)) return { count: 0, overflow };
  const count = tally.count - tally.written;
  tally.written = tally.count;
  return { count, overflow };
}

/** Forgets every tally (tests). */
export function resetAuthFailureTallies(): void {
  minute = "";
  tallies = new Map();
}

async function recordQuietly(signal: Signal): Promise<void> {
  try {
    await recordSignal(signal);
  } catch (error) {
    logger.warn("security signal not recorded", {
      signal: signal.kind,
      requestId: signal.requestId,
      error: { name: error instanceof Error ? error.name : "unknown" },
    });
  }
}

/** A 401 (missing or invalid token): counted, and written as the tally above says. */
export async function signalUnauthenticated(request: { ip: string; route: string; requestId: string }) {
  const now = new Date();
  const { count, overflow } = tallyUnauthenticated(request.ip, now);
  if (count === 0) return;
  await recordQuietly({
    kind: "unauthenticated",
    at: now.toISOString(),
    route: request.route,
    requestId: request.requestId,
    ...(overflow ? { reason: "overflow" } : { ip: request.ip }),
    ...(count > 1 && { count }),
  });
}

/** A request by a disabled account reached a function (refused: it should never get further). */
export async function signalInactiveAccount(request: {
  orgId: string;
  userId: string;
  ip: string;
  route: string;
  requestId: string;
}) {
  await recordQuietly({ kind: "inactive_account", at: new Date().toISOString(), ...request });
}
