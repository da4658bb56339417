import type { AuditObservation, Observation, SignalObservation } from "../../shared/detection";
import { localTime } from "../../shared/detection";
import type { SecurityEventType, Signal } from "../../shared/security";
import { type TenantSettings, TenantSettingsSchema } from "../../shared/settings";

/**
 * The detection benchmark's world: a seeded generator (mulberry32, so every run sees the same month) of
 * normal activity for 100 users in three orgs on three continents, and of labelled attacks injected into
 * it. Normal: coaches work their own caseloads in their org's working hours (a list of their clients, a
 * few client, note and session reads), leads review their team one coach at a time, admins manage people
 * without PHI; and the noise of real life: a little late work, a rare Saturday, mistyped passwords,
 * expired tokens, a denial now and then, accounts disabled for good. Signals have the shapes the product
 * emits: a failed sign-in by IP and the user's Cognito sub when the user exists, no org (the user pool's
 * log feed); a 401 by IP alone; denials and blocks with org and user (the pipeline and the limiter). A
 * warm-up of two weeks comes first
 * (baselines need history, as in a running deployment); only the month after it is scored.
 */
export const WARMUP_DAYS = 14;
export const SCORED_DAYS = 28;
const START = Date.parse("2026-02-02T00:00:00Z"); // a Monday
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] as T,
    sample: <T>(items: readonly T[], n: number) => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
      }
      return copy.slice(0, n);
    },
  };
}

type User = {
  id: string;
  orgId: string;
  role: "coach" | "coach_lead" | "admin";
  clients: string[];
  team: string[];
  ip: string;
};
type Org = { id: string; timeZone: string; office: string; users: User[]; settings: TenantSettings };

export const ATTACK_KINDS = [
  "night_reader",
  "lead_bulk_read",
  "credential_stuffing",
  "password_spraying",
  "distributed_brute_force",
  "break_glass_spree",
  "activity_after_disable",
  "denial_probing",
  "slow_excessive_access",
  "export_spree",
  "weekend_snooping",
  "access_while_blocked",
  "list_crawl",
  "night_lister",
  "midnight_reader",
] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export type Attack = {
  kind: AttackKind;
  orgId?: string;
  userId?: string;
  ip?: string;
  /** Epoch ms of its first and last event. */
  start: number;
  end: number;
  /** The findings that count as detecting it. */
  expects: readonly SecurityEventType[];
};

export type World = {
  orgs: Org[];
  observations: Observation[];
  attacks: Attack[];
  /** Accounts disabled, from when until when (re-enabled): the directory the detectors ask. */
  disabled: Map<string, { from: number; until: number }>;
  users: number;
  scoredFrom: number;
  scoredTo: number;
};

/** The epoch ms of a local wall-clock time in a zone (searching the offset: exact for the hours used here). */
function at(day: number, hour: number, minute: number, timeZone: string): number {
  const guess = START + day * DAY + hour * HOUR + minute * MINUTE;
  for (let offset = -14; offset <= 14; offset++) {
    const candidate = guess - offset * HOUR;
    const local = localTime(candidate, timeZone);
    if (
      local.clock === `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}` &&
      local.day === new Date(START + day * DAY).toISOString().slice(0, 10)
    )
      return candidate;
  }
  return guess;
}
const weekday = (day: number) => (((day % 7) + 7) % 7) + 1; // START is a Monday

export function generate(seed = 11): World {
  const random = prng(seed);
  const observations: Observation[] = [];
  const attacks: Attack[] = [];
  const disabled = new Map<string, { from: number; until: number }>();
  let seq = 0;
  let signalSeq = 0;
  const audit = (
    user: User,
    time: number,
    action: string,
    clients: readonly string[],
    fields = true,
    resourceId = clients[0] ?? "x",
  ): void => {
    seq += 1;
    observations.push({
      source: "audit",
      id: `ORG#${user.orgId}#SHARD#0#${seq}`,
      orgId: user.orgId,
      at: time,
      actor: { type: "user", id: user.id, role: user.role },
      action,
      resourceId,
      phiClients: fields ? clients : [],
      ...(fields && action !== "client.list" && clients.length === 1 && { opened: clients[0] }),
      outcome: "success",
      breakGlass: false,
      sourceIp: user.ip,
    } satisfies AuditObservation);
  };
  const signal = (time: number, fields: Omit<Signal, "at">): void => {
    signalSeq += 1;
    const full = { at: new Date(time).toISOString(), ...fields } as Signal;
    observations.push({
      source: "signal",
      id: `SIGNAL#${full.at}#${full.kind}#s${signalSeq}`,
      at: time,
      signal: full,
    } satisfies SignalObservation);
  };

  const zones = ["America/New_York", "Europe/Berlin", "Asia/Tokyo"];
  const orgs: Org[] = zones.map((timeZone, o) => ({
    id: `org-${o + 1}`,
    timeZone,
    office: `192.0.2.${10 + o}`,
    users: [],
    settings: TenantSettingsSchema.parse({ businessHours: { timeZone } }),
  }));
  let clientSeq = 0;
  for (let u = 0; u < 100; u++) {
    const org = orgs[u % 3] as Org;
    const index = org.users.length;
    const role = index < 2 ? "admin" : index < 5 ? "coach_lead" : "coach";
    const clients =
      role === "coach" ? Array.from({ length: random.int(12, 30) }, () => `client-${++clientSeq}`) : [];
    org.users.push({
      id: `${org.id}-u${index}`,
      orgId: org.id,
      role,
      clients,
      team: [],
      ip: random.chance(0.7) ? org.office : `198.51.100.${u}`,
    });
  }
  for (const org of orgs) {
    const leads = org.users.filter((user) => user.role === "coach_lead");
    for (const [i, coach] of org.users.filter((user) => user.role === "coach").entries())
      (leads[i % leads.length] as User).team.push(coach.id);
  }
  const byId = new Map(orgs.flatMap((org) => org.users.map((user) => [user.id, user] as const)));
  const days = WARMUP_DAYS + SCORED_DAYS;
  // Two accounts disabled for good mid-month (people who left): no activity after.
  const leavers = new Map<string, number>();
  for (const org of orgs.slice(0, 2)) {
    const leaver = org.users.at(-1) as User;
    leavers.set(leaver.id, START + (WARMUP_DAYS + random.int(3, 20)) * DAY);
    disabled.set(leaver.id, { from: leavers.get(leaver.id) as number, until: Number.POSITIVE_INFINITY });
  }

  // Normal activity.
  for (let day = 0; day < days; day++) {
    for (const org of orgs) {
      const working = weekday(day) <= 5;
      for (const user of org.users) {
        const gone = leavers.get(user.id);
        if (gone !== undefined && START + day * DAY >= gone - DAY) continue;
        const z = org.timeZone;
        const startHour = random.int(8, 10);
        const endHour = random.int(16, 18);
        const clock = () => at(day, random.int(startHour, endHour - 1), random.int(0, 59), z);
        // Noise that has nothing to do with working: a mistyped password, an expired token.
        if (random.chance(0.06)) {
          const when = clock();
          for (let i = 0; i < random.int(1, 2); i++)
            signal(when + i * 20_000, { kind: "sign_in_failed", userId: user.id, ip: user.ip });
        }
        if (random.chance(0.25)) signal(clock(), { kind: "unauthenticated", ip: user.ip });
        if (random.chance(0.03)) {
          const when = clock();
          for (let i = 0; i < random.int(1, 2); i++)
            signal(when + i * 30_000, {
              kind: "denied",
              orgId: org.id,
              userId: user.id,
              ip: user.ip,
              route: "clients/get",
              reason: "policy",
            });
        }
        const saturday = weekday(day) === 6 && random.chance(0.03);
        if (!working && !saturday) continue;
        if (working && random.chance(0.1)) continue; // a day off
        if (user.role === "admin") {
          for (let i = 0; i < random.int(0, 4); i++)
            audit(user, clock(), "user.update", [], false, `user-${random.int(1, 99)}`);
          continue;
        }
        if (user.role === "coach") {
          const first = saturday ? at(day, 11, random.int(0, 59), z) : clock();
          audit(user, first, "client.list", user.clients);
          const reads = saturday ? random.int(1, 3) : random.int(4, 10);
          for (const client of random.sample(user.clients, reads)) {
            const when = saturday ? first + random.int(1, 90) * MINUTE : clock();
            audit(user, when, "client.read", [client]);
            if (random.chance(0.7)) audit(user, when + 2 * MINUTE, "note.list", [client]);
            if (random.chance(0.4)) audit(user, when + 5 * MINUTE, "session.read", [client]);
          }
          // Occasional legitimate late work: finishing a few notes in the evening.
          if (working && random.chance(0.08))
            for (const client of random.sample(user.clients, random.int(1, 3)))
              audit(user, at(day, random.int(20, 21), random.int(0, 59), z), "note.list", [client]);
          continue;
        }
        // A lead reviews two to four of their coaches, one at a time, half an hour or more apart.
        const reviewed = random.sample(user.team, random.int(2, 4));
        for (const [i, coachId] of reviewed.entries()) {
          const coach = byId.get(coachId) as User;
          const when = at(day, startHour + i * 2, random.int(0, 59), z);
          audit(user, when, "client.list", coach.clients);
          for (const client of random.sample(coach.clients, random.int(2, 5)))
            audit(user, when + random.int(2, 40) * MINUTE, "note.list", [client]);
        }
      }
    }
  }

  // Attacks: each kind injected into the scored month, spread over its days, users and orgs.
  const PER_KIND = 8;
  const scoredDay = () => WARMUP_DAYS + random.int(0, SCORED_DAYS - 2);
  const workday = () => {
    let day = scoredDay();
    while (weekday(day) > 5) day = scoredDay();
    return day;
  };
  const coaches = orgs.flatMap((org) =>
    org.users.filter((user) => user.role === "coach" && !leavers.has(user.id)),
  );
  const leads = orgs.flatMap((org) => org.users.filter((user) => user.role === "coach_lead"));
  const orgOf = (user: User) => orgs.find((org) => org.id === user.orgId) as Org;
  const inject = (attack: Attack) => attacks.push(attack);
  for (let n = 0; n < PER_KIND; n++) {
    {
      // A coach reads all their clients at night.
      const user = random.pick(coaches);
      const start = at(scoredDay(), random.int(1, 3), random.int(0, 30), orgOf(user).timeZone);
      for (const [i, client] of user.clients.entries())
        audit(user, start + i * random.int(20, 90) * 1000, "client.read", [client]);
      inject({
        kind: "night_reader",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + user.clients.length * 90_000,
        expects: ["after_hours_access"],
      });
    }
    {
      // A lead lists every team client, page after page, in a few minutes.
      const user = random.pick(leads);
      const start = at(workday(), random.int(10, 15), random.int(0, 59), orgOf(user).timeZone);
      const all = user.team.flatMap((id) => (byId.get(id) as User).clients);
      for (let page = 0; page * 99 < all.length; page++)
        audit(user, start + page * 30_000, "client.list", all.slice(page * 99, page * 99 + 99));
      inject({
        kind: "lead_bulk_read",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + 5 * MINUTE,
        expects: ["bulk_access", "excessive_access"],
      });
    }
    {
      // Credential stuffing: one address, a leaked list of accounts (mostly unknown here), in minutes.
      const ip = `203.0.113.${n + 1}`;
      const start = START + scoredDay() * DAY + random.int(0, 23) * HOUR;
      const tries = random.int(50, 200);
      for (let i = 0; i < tries; i++)
        signal(start + i * random.int(1, 4) * 1000, { kind: "sign_in_failed", ip });
      inject({ kind: "credential_stuffing", ip, start, end: start + tries * 4000, expects: ["brute_force"] });
    }
    {
      // Password spraying: one address, one common password against each account of an org, slowly.
      const org = random.pick(orgs);
      const ip = `203.0.113.${100 + n}`;
      const start = START + scoredDay() * DAY + random.int(0, 23) * HOUR;
      for (const [i, user] of org.users.entries())
        signal(start + i * 50_000, { kind: "sign_in_failed", userId: user.id, ip });
      inject({
        kind: "password_spraying",
        ip,
        start,
        end: start + org.users.length * 50_000,
        expects: ["brute_force"],
      });
    }
    {
      // Many addresses against one account (a botnet): per IP below any threshold, per user not.
      const user = random.pick(coaches);
      const start = START + scoredDay() * DAY + random.int(0, 23) * HOUR;
      for (let i = 0; i < 15; i++)
        signal(start + i * 30_000, { kind: "sign_in_failed", userId: user.id, ip: `100.64.${n}.${i}` });
      inject({
        kind: "distributed_brute_force",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + 15 * 30_000,
        expects: ["brute_force"],
      });
    }
    {
      // A break-glass spree: one lead opens several clients outside their team by emergency grants.
      const user = random.pick(leads);
      const start = at(workday(), random.int(9, 16), random.int(0, 59), orgOf(user).timeZone);
      for (let i = 0; i < random.int(3, 5); i++)
        audit(user, start + i * 5 * MINUTE, "breakglass.grant", [], false, `grant-${n}-${i}`);
      inject({
        kind: "break_glass_spree",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + 25 * MINUTE,
        expects: ["break_glass"],
      });
    }
    {
      // Activity after the account was disabled (a session that outlived it: should be impossible).
      const user = random.pick(coaches);
      const day = workday();
      const disabledAt = at(day, 12, 0, orgOf(user).timeZone);
      const start = disabledAt + random.int(5, 60) * MINUTE;
      for (let i = 0; i < random.int(1, 3); i++)
        audit(user, start + i * MINUTE, "client.read", [random.pick(user.clients)]);
      // Re-enabled the next morning (a mistaken disable), so the rest of the month stays normal for them.
      disabled.set(user.id, { from: disabledAt, until: disabledAt + 18 * HOUR });
      // Whatever the account did from the disabling on is part of the attack (its normal afternoon too).
      inject({
        kind: "activity_after_disable",
        orgId: user.orgId,
        userId: user.id,
        start: disabledAt,
        end: disabledAt + 18 * HOUR,
        expects: ["inactive_account_access"],
      });
    }
    {
      // A coach probes clients that are not theirs: a run of denials.
      const user = random.pick(coaches);
      const start = at(workday(), random.int(9, 16), random.int(0, 59), orgOf(user).timeZone);
      const probes = random.int(8, 15);
      for (let i = 0; i < probes; i++)
        signal(start + i * 20_000, {
          kind: "denied",
          orgId: user.orgId,
          userId: user.id,
          ip: user.ip,
          route: "clients/get",
          reason: "policy",
        });
      inject({
        kind: "denial_probing",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + probes * 20_000,
        expects: ["repeated_denials"],
      });
    }
    {
      // Slow excessive access: a lead reads clients one by one all day, never fast enough to be bulk.
      const user = random.pick(leads);
      const all = user.team.flatMap((id) => (byId.get(id) as User).clients);
      const day = workday();
      const start = at(day, 9, 0, orgOf(user).timeZone);
      const picked = random.sample(all, Math.min(all.length, random.int(50, 80)));
      for (const [i, client] of picked.entries())
        audit(user, start + i * random.int(4, 7) * MINUTE, "client.read", [client]);
      inject({
        kind: "slow_excessive_access",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + picked.length * 7 * MINUTE,
        expects: ["excessive_access"],
      });
    }
    {
      // An export spree.
      const user = random.pick([...coaches, ...leads]);
      const start = at(workday(), random.int(9, 16), random.int(0, 59), orgOf(user).timeZone);
      for (let i = 0; i < random.int(3, 6); i++)
        audit(user, start + i * MINUTE, "client.export", [
          random.pick(user.clients.length ? user.clients : ["client-1"]),
        ]);
      inject({
        kind: "export_spree",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + 6 * MINUTE,
        expects: ["bulk_access"],
      });
    }
    {
      // Weekend snooping: a coach reads a handful of clients on a Sunday afternoon.
      const user = random.pick(coaches);
      let day = scoredDay();
      while (weekday(day) !== 7) day += 1;
      const start = at(day, 15, random.int(0, 59), orgOf(user).timeZone);
      for (const [i, client] of random.sample(user.clients, 8).entries())
        audit(user, start + i * 4 * MINUTE, "client.read", [client]);
      inject({
        kind: "weekend_snooping",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + 32 * MINUTE,
        expects: ["after_hours_access"],
      });
    }
    {
      // A blocked principal whose requests still reach PHI (the block did not hold).
      const user = random.pick(coaches);
      const start = at(workday(), random.int(9, 16), random.int(0, 59), orgOf(user).timeZone);
      signal(start, { kind: "blocked", orgId: user.orgId, userId: user.id, reason: "rate_limit" });
      audit(user, start + 2 * MINUTE, "client.read", [random.pick(user.clients)]);
      // The block lasts the settings' blockSeconds: whatever the account did in it is part of the attack.
      const blockMs = orgOf(user).settings.blocking.blockSeconds * 1000;
      inject({
        kind: "access_while_blocked",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + blockMs,
        expects: ["inactive_account_access"],
      });
    }
    {
      // A list crawl: a lead pages through the org's clients, 39 at a time (just under the bulk rule's 40),
      // every 11 minutes (each page outside the last one's window), from the morning on.
      const user = random.pick(leads);
      const org = orgOf(user);
      const all = org.users.flatMap((member) => member.clients);
      const start = at(workday(), 8, random.int(0, 59), org.timeZone);
      const pages = Math.ceil(all.length / 39);
      for (let page = 0; page < pages; page++)
        audit(user, start + page * 11 * MINUTE, "client.list", all.slice(page * 39, page * 39 + 39));
      inject({
        kind: "list_crawl",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + pages * 11 * MINUTE,
        expects: ["bulk_access", "excessive_access"],
      });
    }
    {
      // Four list pages of 39 clients at 02:00: the practice's names in a minute, at night.
      const user = random.pick(leads);
      const org = orgOf(user);
      const all = org.users.flatMap((member) => member.clients);
      const start = at(scoredDay(), 2, random.int(0, 30), org.timeZone);
      for (let page = 0; page < 4; page++)
        audit(user, start + page * 15_000, "client.list", all.slice(page * 39, page * 39 + 39));
      inject({
        kind: "night_lister",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: start + MINUTE,
        expects: ["after_hours_access", "bulk_access"],
      });
    }
    {
      // Four records at 23:30 and four more at 00:30: one night, two calendar days.
      const user = random.pick(coaches);
      const z = orgOf(user).timeZone;
      const day = scoredDay();
      const start = at(day, 23, 30, z);
      const [before, after] = [random.sample(user.clients, 8).slice(0, 4), random.sample(user.clients, 8)];
      const opened = [...before, ...after.filter((client) => !before.includes(client)).slice(0, 4)];
      for (const [i, client] of opened.entries())
        audit(user, (i < 4 ? start : at(day + 1, 0, 30, z)) + (i % 4) * MINUTE, "client.read", [client]);
      inject({
        kind: "midnight_reader",
        orgId: user.orgId,
        userId: user.id,
        start,
        end: at(day + 1, 0, 34, z),
        expects: ["after_hours_access"],
      });
    }
  }
  observations.sort((a, b) => a.at - b.at);
  return {
    orgs,
    observations,
    attacks,
    disabled,
    users: 100,
    scoredFrom: START + WARMUP_DAYS * DAY,
    scoredTo: START + (WARMUP_DAYS + SCORED_DAYS) * DAY,
  };
}
