import { parseEntry } from "../audit/entry";
import { SIGNAL_KINDS, SIGNAL_SK_PREFIX, type Signal } from "../security/signals";

/**
 * What the detectors observe: an audit entry (everything a user did, from the audit table's stream) or
 * a security signal (what the pipeline refused or saw fail, from the security table's stream), reduced to
 * the ids, times and counts the rules need. Nothing here is PHI: client ids are kept for counting
 * distinct clients, and never leave the detector state.
 */
export type AuditObservation = {
  source: "audit";
  /** The entry's place: `<chain>#<seq>` (an audit reviewer opens the entry from it). */
  id: string;
  orgId: string;
  /** Epoch milliseconds of the entry's `time`. */
  at: number;
  actor: { type: "user" | "service"; id: string; role: string };
  action: string;
  resourceId: string;
  /** The clients whose PHI the entry disclosed or wrote (empty when it carried no PHI field). */
  phiClients: readonly string[];
  /** The one client whose record the entry opened (PHI of a single client, not a list page). */
  opened?: string;
  outcome: "success" | "denied" | "failure";
  breakGlass: boolean;
  sourceIp: string;
};

export type SignalObservation = {
  source: "signal";
  /** The signal's sort key (`SIGNAL#<at>#<kind>#<id>`): unique per signal. */
  id: string;
  at: number;
  signal: Signal;
};

export type Observation = AuditObservation | SignalObservation;

/** An audit item (as stored: `pk`, `seq`, `entry` text, …) as an observation, or undefined if it holds no entry. */
export function auditObservation(item: Record<string, unknown>): AuditObservation | undefined {
  const entry = parseEntry(item.entry);
  if (!entry) return undefined;
  const at = Date.parse(entry.time);
  const withPhi = entry.fields.length > 0;
  const clients = withPhi ? [entry.resource.clientId, ...(entry.resource.clientIds ?? [])] : [];
  const opened = withPhi && !entry.resource.clientIds ? entry.resource.clientId : undefined;
  return {
    source: "audit",
    id: `${String(item.pk)}#${String(item.seq)}`,
    orgId: entry.actor.orgId,
    at,
    actor: { type: entry.actor.type, id: entry.actor.id, role: entry.actor.role },
    action: entry.action,
    resourceId: entry.resource.id,
    phiClients: [...new Set(clients.filter((client): client is string => Boolean(client)))],
    ...(opened && { opened }),
    outcome: entry.outcome,
    breakGlass: entry.breakGlass,
    sourceIp: entry.sourceIp,
  };
}

const KINDS = new Set<string>(SIGNAL_KINDS);
const text = (value: unknown) => (typeof value === "string" && value.length <= 256 ? value : undefined);

/**
 * A security-table item as a signal observation: only items whose sort key is a signal's (the table also
 * holds detector state and findings, which the detectors write and must never react to), with a known kind
 * and a time.
 */
export function signalObservation(item: Record<string, unknown>): SignalObservation | undefined {
  const sk = text(item.sk);
  const at = Date.parse(String(item.at));
  if (!sk?.startsWith(SIGNAL_SK_PREFIX) || !KINDS.has(String(item.kind)) || Number.isNaN(at))
    return undefined;
  const signal: Signal = { kind: item.kind as Signal["kind"], at: new Date(at).toISOString() };
  for (const key of ["orgId", "userId", "ip", "route", "requestId", "reason"] as const) {
    const value = text(item[key]);
    if (value) signal[key] = value;
  }
  // An aggregated signal (a flood of 401s from one IP, a log batch) stands for `count` observations.
  const count = Number(item.count);
  if (Number.isInteger(count) && count > 1) signal.count = count;
  return { source: "signal", id: sk, at, signal };
}

/**
 * The most observations one aggregated signal counts as: the settings bound the signal thresholds below it
 * (`detectors.bruteForceFailures`, `detectors.repeatedDenials`), so counting further changes no finding,
 * and the members stay a small string set.
 */
export const MAX_COUNTED_PER_SIGNAL = 1000;

/**
 * The distinct members a signal adds to a rule's count: its own id, or one id per observation it stands for
 * (`<id>#<n>`). Stable ids, so a retried batch adds nothing new.
 */
export function signalMembers(observation: SignalObservation): string[] {
  const count = Math.min(observation.signal.count ?? 1, MAX_COUNTED_PER_SIGNAL);
  if (count <= 1) return [observation.id];
  return Array.from({ length: count }, (_, n) => `${observation.id}#${n}`);
}
