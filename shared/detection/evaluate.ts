import type { TenantSettings } from "../settings/schema";
import { localTime } from "./clock";

/**
 * The small pure judgements the rules make. Counted members are `<epoch seconds>#<value>`: the time lets a
 * sliding window count only what lies in it, the value makes a member count once however often it is added.
 */
export const member = (epochMs: number, value: string) => `${Math.floor(epochMs / 1000)}#${value}`;

export type Tally = {
  /** Distinct values counted. */
  count: number;
  /** Epoch milliseconds of the earliest and latest member counted. */
  first: number;
  last: number;
};

/** Distinct values among the members whose time lies in [from, to] (epoch milliseconds). */
export function tally(members: Iterable<string>, from: number, to: number): Tally {
  const values = new Set<string>();
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const start = Math.floor(from / 1000) * 1000;
  for (const entry of members) {
    const split = entry.indexOf("#");
    const ms = Number(entry.slice(0, split)) * 1000;
    if (!(ms >= start && ms <= to)) continue;
    values.add(entry.slice(split + 1));
    first = Math.min(first, ms);
    last = Math.max(last, ms);
  }
  return { count: values.size, first, last };
}

/** Whether an instant lies inside the org's business hours (its days, from `start` to before `end`, in its zone). */
export function withinBusinessHours(epochMs: number, hours: TenantSettings["businessHours"]): boolean {
  const local = localTime(epochMs, hours.timeZone);
  return hours.days.includes(local.weekday) && local.clock >= hours.start && local.clock < hours.end;
}

/** Means of distinct clients a day: the user's own, the org's, and how many user-days the org's rests on. */
export type Baselines = { user: number; org: number; history: number };

/**
 * Baselines from earlier days' distinct-client sets (`<prefix><day>#<userId>` → clients): the user's own is
 * the mean over the days they worked, the org's the mean over every user's working days.
 */
export function baselines(days: readonly { key: string; members: ReadonlySet<string> }[]) {
  const users = new Map<string, { total: number; days: number }>();
  let total = 0;
  for (const day of days) {
    const userId = day.key.slice(day.key.lastIndexOf("#") + 1);
    const count = tally(day.members, 0, Number.POSITIVE_INFINITY).count;
    const user = users.get(userId) ?? { total: 0, days: 0 };
    users.set(userId, { total: user.total + count, days: user.days + 1 });
    total += count;
  }
  const org = days.length > 0 ? total / days.length : 0;
  return (userId: string): Baselines => {
    const user = users.get(userId);
    return { user: user ? user.total / user.days : 0, org, history: days.length };
  };
}

/**
 * Far above both baselines (the factor times the larger) and at least the minimum. Without any history in
 * the org (a new deployment or org) nothing is "far above" anything yet: the bulk rule still watches.
 */
export function isExcessive(count: number, baseline: Baselines, detectors: TenantSettings["detectors"]) {
  return (
    baseline.history > 0 &&
    count >= detectors.excessiveAccessMinClients &&
    count > detectors.excessiveAccessFactor * Math.max(baseline.user, baseline.org)
  );
}
