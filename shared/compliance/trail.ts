import { GRANT_RECORD_PREFIX, type GrantReviewRecord, grantRecordKey } from "../access";
import { orgIndexKey, subjectsOf } from "../audit/chain";
import { parseEntry } from "../audit/entry";
import { getConfig } from "../config";
import { batchGet, queryAll } from "../store";
import type { CheckContext } from "./check";

/**
 * What a report reads of the audit trail and the break-glass records, loaded once per report and shared by
 * the checks (`context.memo`) and the report's activity: the period's entries through the byOrg index
 * (never a chain walked from genesis), reduced to ids, times and counts, and the org's break-glass grant
 * records. Nothing here is PHI: field names are counted, client ids kept only to count and to find the
 * disclosure pointers.
 */
export type TrailEntry = {
  chain: string;
  seq: number;
  /** The entry's place in the byOrg index (`time#chain#seq`), also the sort key of its disclosure pointers. */
  at: string;
  time: string;
  actorType: "user" | "service";
  actorId: string;
  role: string;
  action: string;
  outcome: "success" | "denied" | "failure";
  /** How many PHI field names the entry lists. */
  fields: number;
  /** The clients the entry names (its disclosure subjects). */
  clients: readonly string[];
  breakGlass: boolean;
  /** The relationships access rested on; absent in version 1 entries, which predate it. */
  basis?: readonly string[];
};

export type PeriodTrail = {
  entries: TrailEntry[];
  /** Items the index found whose text is no entry (tampering: the verifier names where). */
  unreadable: number;
};

/** Slices of the period queried at once: the byOrg partition is read in time order, one page after another per slice. */
const SLICES = 4;

type IndexedItem = { pk: string; seq: number; at: string; entry: string };

function sliceBounds(from: string, to: string): [string, string][] {
  const start = Date.parse(from);
  const span = Date.parse(to) - start;
  if (!(span > 0)) return [[from, to]];
  const cuts = Array.from({ length: SLICES + 1 }, (_, index) =>
    index === 0
      ? from
      : index === SLICES
        ? to
        : new Date(start + Math.floor((span * index) / SLICES)).toISOString(),
  );
  return cuts.slice(1).map((cut, index) => [cuts[index] as string, cut]);
}

/** The entries of one slice [from, to): an `at` starts with its time, so `to` itself (a bare time) excludes entries at it. */
async function readSlice(orgId: string, from: string, to: string): Promise<PeriodTrail> {
  const items = await queryAll<IndexedItem>({
    TableName: getConfig().TABLE_AUDIT,
    IndexName: "byOrg",
    KeyConditionExpression: "org = :org AND #at BETWEEN :from AND :to",
    ExpressionAttributeNames: { "#at": "at", "#entry": "entry" },
    ExpressionAttributeValues: { ":org": orgIndexKey(orgId), ":from": from, ":to": to },
    ProjectionExpression: "pk, seq, #at, #entry",
  });
  const entries: TrailEntry[] = [];
  let unreadable = 0;
  for (const item of items) {
    const entry = parseEntry(item.entry);
    if (!entry) {
      unreadable++;
      continue;
    }
    entries.push({
      chain: String(item.pk),
      seq: Number(item.seq),
      at: String(item.at),
      time: entry.time,
      actorType: entry.actor.type,
      actorId: entry.actor.id,
      role: entry.actor.role,
      action: entry.action,
      outcome: entry.outcome,
      fields: entry.fields.length,
      clients: subjectsOf(entry),
      breakGlass: entry.breakGlass,
      ...(entry.v === 2 && { basis: entry.basis }),
    });
  }
  return { entries, unreadable };
}

/** The org's audit entries in [from, to), in time order. */
export async function readPeriodTrail(
  orgId: string,
  period: { from: string; to: string },
): Promise<PeriodTrail> {
  const slices = await Promise.all(
    sliceBounds(period.from, period.to).map(([from, to]) => readSlice(orgId, from, to)),
  );
  return {
    entries: slices.flatMap((slice) => slice.entries),
    unreadable: slices.reduce((total, slice) => total + slice.unreadable, 0),
  };
}

/**
 * The period's entries, read once per report: through the report's `memo` when there is one (the checks
 * and the activity share it), else read here.
 */
export function periodTrail(
  orgId: string,
  period: { from: string; to: string },
  memo?: CheckContext["memo"],
): Promise<PeriodTrail> {
  const read = () => readPeriodTrail(orgId, period);
  return memo ? memo("trail", read) : read();
}

/**
 * A successful access to PHI: the entry lists PHI fields and names the clients they belong to (the
 * detectors' definition: `shared/detection/observations.ts`).
 */
export const isPhiAccess = (entry: TrailEntry) =>
  entry.outcome === "success" && entry.fields > 0 && entry.clients.length > 0;

/** A grant's review record, as the checks and the activity read it (the sealed note is never read). */
export type GrantRecord = Omit<GrantReviewRecord, "reviewNote">;
const GRANT_ATTRIBUTES = "grantId, clientId, userId, grantedAt, expiresAt, #status, reviewedBy, reviewedAt";

/** The org's break-glass grants made at or after `since` (all of them without it). Grants are rare: one query. */
export function grantsSince(orgId: string, since?: string): Promise<GrantRecord[]> {
  return queryAll<GrantRecord>({
    TableName: getConfig().TABLE_RECORDS,
    KeyConditionExpression: "pk = :p AND begins_with(sk, :prefix)",
    ...(since && { FilterExpression: "grantedAt >= :since" }),
    ProjectionExpression: GRANT_ATTRIBUTES,
    ExpressionAttributeNames: { "#status": "status" },
    ExpressionAttributeValues: {
      ":p": `ORG#${orgId}`,
      ":prefix": GRANT_RECORD_PREFIX,
      ...(since && { ":since": since }),
    },
  });
}

/** Grant records by id (the ones a previous report carried forward). */
export function grantsById(orgId: string, grantIds: readonly string[]): Promise<GrantRecord[]> {
  if (grantIds.length === 0) return Promise.resolve([]);
  return batchGet<GrantRecord>(
    getConfig().TABLE_RECORDS,
    grantIds.map((grantId) => grantRecordKey(orgId, grantId)),
  );
}
