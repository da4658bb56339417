import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { aws } from "../aws";
import { getConfig } from "../config";

/**
 * Security signals: what the request pipeline, the limiter and the sign-in feed observe that is not an
 * audit entry (a denial, a refused or blocked request, a failed sign-in). Each is one item in the security
 * table, whose stream feeds the detectors within seconds. Ids, a route name and an IP only: never PHI,
 * never a token, an email or a submitted value.
 */
export const SIGNAL_KINDS = [
  /** An authenticated principal was refused (403) by role or policy. */
  "denied",
  /** A request was refused for the rate limit (429). */
  "rate_limited",
  /** A principal was blocked (the limiter's blocking rule). */
  "blocked",
  /** A principal's block was lifted by an admin. */
  "unblocked",
  /** A request with a missing or invalid token (401). */
  "unauthenticated",
  /** A failed sign-in (Cognito), where the product sees one. */
  "sign_in_failed",
  /** A request from an account that is disabled (or blocked) reached a function: should never succeed. */
  "inactive_account",
] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

export type Signal = {
  kind: SignalKind;
  /** ISO time the signal was observed. */
  at: string;
  /** Absent when no org is known (an invalid token, a failed sign-in of an unknown user). */
  orgId?: string;
  userId?: string;
  ip?: string;
  /** The route's handler id (`clients/get`), when a route observed it. */
  route?: string;
  requestId?: string;
  /** A few words of why (`role`, `policy`, `rate_limit`, `denials`): a fixed vocabulary, no request data. */
  reason?: string;
  /**
   * How many observations this one item stands for (absent: one). Floods are aggregated before they are
   * written (`unauthenticated` per IP and minute, the log feeds per batch): detectors add counts up.
   */
  count?: number;
};

/** Signals stay long enough for the longest detector window and a week's review, then TTL removes them. */
export const SIGNAL_DAYS = 30;

/** The security table's partition of an org's signals, and of those no org is known for. */
export const signalPartition = (orgId: string | undefined) =>
  orgId ? `ORG#${orgId}#SIGNALS` : "PLATFORM#SIGNALS";

export const SIGNAL_SK_PREFIX = "SIGNAL#";

/** The item a signal is stored as (exported for the detectors that read it back from the stream). */
export function signalItem(signal: Signal, id: string = signal.requestId ?? randomUUID()) {
  return {
    pk: signalPartition(signal.orgId),
    sk: `${SIGNAL_SK_PREFIX}${signal.at}#${signal.kind}#${id}`,
    ...signal,
    expiresAt: Math.floor(Date.parse(signal.at) / 1000) + SIGNAL_DAYS * 86_400,
  };
}

/**
 * Stores one signal. It throws like any AWS call: a caller answering a request decides whether a lost
 * signal may fail the request (it should not turn a 403 into a 503) and logs it when it swallows it.
 */
export async function recordSignal(signal: Signal): Promise<void> {
  await aws("dynamo").send(
    new PutCommand({ TableName: getConfig().TABLE_SECURITY, Item: signalItem(signal) }),
  );
}
