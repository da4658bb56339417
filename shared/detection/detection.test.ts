import { describe, expect, it } from "vitest";
import type { SecurityEvent } from "../security/events";
import type { Signal } from "../security/signals";
import { BUILT_IN_SETTINGS, type TenantSettings, TenantSettingsSchema } from "../settings";
import { localTime } from "./clock";
import { type AccountStatus, createDetector } from "./engine";
import { withinBusinessHours } from "./evaluate";
import {
  type AuditObservation,
  auditObservation,
  type SignalObservation,
  signalObservation,
} from "./observations";
import { RULES } from "./rules";
import { MemoryState } from "./state";

const ORG = "org-a";
const T0 = Date.parse("2026-03-02T15:00:00Z"); // a Monday, 10:00 in New York
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function harness(
  options: { settings?: TenantSettings; accounts?: Record<string, AccountStatus>; state?: MemoryState } = {},
) {
  const raised = new Map<string, SecurityEvent>();
  const calls: SecurityEvent[] = [];
  const detector = createDetector({
    state: options.state ?? new MemoryState(),
    settings: async () => options.settings ?? BUILT_IN_SETTINGS,
    account: async (_org, userId) =>
      options.accounts?.[userId] ?? { active: true, since: "2020-01-01T00:00:00Z" },
    raise: async (event) => {
      calls.push(event);
      if (!raised.has(event.dedupeKey)) raised.set(event.dedupeKey, event);
    },
    now: () => 0,
  });
  return { detector, raised, calls, findings: () => [...raised.values()] };
}

let seq = 0;
function entry(at: number, fields: Partial<AuditObservation> = {}): AuditObservation {
  seq += 1;
  const clients = fields.phiClients ?? ["c1"];
  return {
    ...(clients.length === 1 && fields.action !== "client.list" && { opened: clients[0] }),
    source: "audit",
    id: `ORG#${ORG}#SHARD#0#${seq}`,
    orgId: ORG,
    at,
    actor: { type: "user", id: "coach-1", role: "coach" },
    action: "client.read",
    resourceId: "c1",
    phiClients: ["c1"],
    outcome: "success",
    breakGlass: false,
    sourceIp: "10.0.0.1",
    ...fields,
  };
}
function signal(at: number, fields: Partial<Signal> & Pick<Signal, "kind">): SignalObservation {
  seq += 1;
  const full: Signal = { at: new Date(at).toISOString(), orgId: ORG, ...fields };
  return { source: "signal", id: `SIGNAL#${full.at}#${full.kind}#r${seq}`, at, signal: full };
}
const types = (findings: SecurityEvent[]) => findings.map((finding) => finding.rule).sort();

describe("the rule table", () => {
  it("names settings keys that exist, one id per row", () => {
    expect(new Set(RULES.map((rule) => rule.id)).size).toBe(RULES.length);
    for (const rule of RULES)
      for (const key of [rule.threshold, rule.window, rule.factor])
        if (key) expect(BUILT_IN_SETTINGS.detectors, `${rule.id}: ${key}`).toHaveProperty(key);
    for (const rule of RULES.filter((rule) => rule.measure === "window")) expect(rule.window).toBeDefined();
  });
});

describe("business hours in the org's zone", () => {
  const hours = BUILT_IN_SETTINGS.businessHours; // America/New_York, Mon–Fri 07:00–20:00
  it("follows daylight saving time (the same UTC instant is in hours in summer, not in winter)", () => {
    // 11:30 UTC: 07:30 EDT (summer, in hours) but 06:30 EST (winter, before hours).
    expect(withinBusinessHours(Date.parse("2026-07-06T11:30:00Z"), hours)).toBe(true);
    expect(withinBusinessHours(Date.parse("2026-01-05T11:30:00Z"), hours)).toBe(false);
    // Around the spring change (Sunday 8 March 2026), Monday 07:00 local is 11:00 UTC.
    expect(withinBusinessHours(Date.parse("2026-03-09T10:59:00Z"), hours)).toBe(false);
    expect(withinBusinessHours(Date.parse("2026-03-09T11:00:00Z"), hours)).toBe(true);
    // The Friday before, 07:00 local was 12:00 UTC.
    expect(withinBusinessHours(Date.parse("2026-03-06T11:30:00Z"), hours)).toBe(false);
  });
  it("takes weekdays and the end of the day in the zone, not in UTC", () => {
    // Friday 19:59 in New York is Saturday 00:59 UTC: in hours; 20:00 is not.
    expect(withinBusinessHours(Date.parse("2026-03-07T00:59:00Z"), hours)).toBe(true);
    expect(withinBusinessHours(Date.parse("2026-03-07T01:00:00Z"), hours)).toBe(false);
    // Saturday noon local: a weekend.
    expect(withinBusinessHours(Date.parse("2026-03-07T17:00:00Z"), hours)).toBe(false);
    const tokyo = { ...hours, timeZone: "Asia/Tokyo" };
    // Monday 08:00 in Tokyo is still Sunday 23:00 in UTC: a working day there.
    expect(withinBusinessHours(Date.parse("2026-03-08T23:00:00Z"), tokyo)).toBe(true);
    expect(withinBusinessHours(Date.parse("2026-03-08T09:00:00Z"), tokyo)).toBe(false);
    expect(localTime(Date.parse("2026-03-08T23:00:00Z"), "Asia/Tokyo")).toEqual({
      day: "2026-03-09",
      weekday: 1,
      clock: "08:00",
    });
  });
});

describe("after-hours access", () => {
  it("raises once the org's threshold of records opened outside hours is reached within the window, once per window", async () => {
    const { detector, findings } = harness();
    const night = Date.parse("2026-03-03T07:00:00Z"); // 02:00 in New York
    for (let i = 0; i < 4; i++) await detector.observe(entry(night + i * 60_000, { phiClients: [`c${i}`] }));
    expect(findings()).toEqual([]);
    for (let i = 4; i < 8; i++) await detector.observe(entry(night + i * 60_000, { phiClients: [`c${i}`] }));
    expect(types(findings())).toEqual(["after_hours_access"]);
    const [finding] = findings();
    expect(finding).toMatchObject({
      type: "after_hours_access",
      orgId: ORG,
      subject: { userId: "coach-1" },
      evidence: { count: 5, threshold: 5, windowSeconds: 43_200 },
      dedupeKey: `after_hours_access#coach-1#${Math.floor((night + 4 * 60_000) / (43_200 * 1000))}`,
    });
  });
  it("counts over a rolling night: four records at 23:30 and four at 00:30 are one night's eight", async () => {
    const { detector, findings } = harness();
    const lateEvening = Date.parse("2026-03-04T04:30:00Z"); // Tuesday 23:30 in New York
    for (let i = 0; i < 4; i++)
      await detector.observe(entry(lateEvening + i * 60_000, { phiClients: [`c${i}`] }));
    for (let i = 4; i < 8; i++)
      await detector.observe(entry(lateEvening + HOUR + i * 60_000, { phiClients: [`c${i}`] }));
    expect(types(findings())).toEqual(["after_hours_access"]);
  });
  it("every client of a list page counts: four pages of 39 at 02:00 are a finding, a Saturday look at one's own caseload is not", async () => {
    const { detector, findings } = harness();
    const night = Date.parse("2026-03-03T07:00:00Z"); // 02:00 in New York
    for (let page = 0; page < 4; page++)
      await detector.observe(
        entry(night + page * 60_000, {
          action: "client.list",
          phiClients: Array.from({ length: 39 }, (_, i) => `c${page * 39 + i}`),
        }),
      );
    expect(findings().map((finding) => [finding.rule, finding.type])).toContainEqual([
      "after_hours_lists",
      "after_hours_access",
    ]);
    const saturday = harness();
    const noon = Date.parse("2026-03-07T16:00:00Z"); // Saturday 11:00 in New York
    await saturday.detector.observe(
      entry(noon, { action: "client.list", phiClients: Array.from({ length: 30 }, (_, i) => `c${i}`) }),
    );
    for (let i = 0; i < 3; i++)
      await saturday.detector.observe(entry(noon + (i + 1) * 60_000, { phiClients: [`c${i}`] }));
    expect(saturday.findings()).toEqual([]);
    // Both ways of counting one night are one finding (one alert).
    const both = harness();
    for (let i = 0; i < 5; i++)
      await both.detector.observe(
        entry(night + i * 60_000, {
          action: "client.list",
          phiClients: Array.from({ length: 10 }, (_, c) => `c${i * 10 + c}`),
        }),
      );
    for (let i = 0; i < 5; i++)
      await both.detector.observe(entry(night + HOUR + i * 60_000, { phiClients: [`c${i}`] }));
    expect(
      both
        .findings()
        .filter((finding) => finding.type === "after_hours_access")
        .map((finding) => finding.dedupeKey.split("#")[0]),
    ).toEqual(["after_hours_access"]);
  });
  it("counts nothing in hours, nor actions without PHI, nor service actors", async () => {
    const { detector, findings } = harness();
    const night = Date.parse("2026-03-03T07:00:00Z");
    for (let i = 0; i < 10; i++) {
      await detector.observe(entry(T0 + i * 60_000, { phiClients: [`c${i}`] }));
      await detector.observe(entry(night + i * 60_000, { phiClients: [], action: "user.update" }));
      await detector.observe(
        entry(night + i * 60_000, { actor: { type: "service", id: "job:x", role: "service" } }),
      );
    }
    expect(findings()).toEqual([]);
  });
});

describe("retries", () => {
  it("a batch delivered again counts nothing twice and raises no second finding", async () => {
    const { detector, findings, calls } = harness();
    const night = Date.parse("2026-03-03T07:00:00Z");
    const batch = Array.from({ length: 4 }, (_, i) => entry(night + i * 1000, { phiClients: [`c${i}`] }));
    for (const observation of batch) await detector.observe(observation);
    for (const observation of batch) await detector.observe(observation); // the stream's retry
    expect(findings()).toEqual([]);
    await detector.observe(entry(night + 10_000, { phiClients: ["c9"] }));
    expect(findings()).toHaveLength(1);
    await detector.observe(batch[0] as AuditObservation);
    expect(new Set(calls.map((call) => call.dedupeKey)).size).toBe(1);
  });
});

describe("break-glass", () => {
  it("every grant at once, keyed by its grant", async () => {
    const { detector, findings } = harness();
    await detector.observe(entry(T0, { action: "breakglass.grant", resourceId: "grant-1", phiClients: [] }));
    await detector.observe(
      entry(T0 + 1, { action: "breakglass.grant", resourceId: "grant-2", phiClients: [] }),
    );
    expect(findings().map((finding) => [finding.type, finding.subject.grantId, finding.severity])).toEqual([
      ["break_glass", "grant-1", "high"],
      ["break_glass", "grant-2", "high"],
    ]);
  });
});

describe("brute force", () => {
  it("per IP across users (spraying) and per user across IPs, within the window only", async () => {
    const { detector, findings } = harness();
    for (let i = 0; i < 9; i++)
      await detector.observe(
        signal(T0 + i * 1000, { kind: "sign_in_failed", ip: "203.0.113.9", userId: `u${i}` }),
      );
    expect(findings()).toEqual([]);
    await detector.observe(
      signal(T0 + 9_000, { kind: "unauthenticated", ip: "203.0.113.9", orgId: undefined }),
    );
    expect(findings().map((finding) => [finding.rule, finding.subject.ip])).toEqual([
      ["brute_force_ip", "203.0.113.9"],
    ]);

    // Ten failures of one user from ten addresses, but spread over more than the window: nothing.
    const slow = harness();
    for (let i = 0; i < 10; i++)
      await slow.detector.observe(
        signal(T0 + i * 120_000, { kind: "sign_in_failed", ip: `198.51.100.${i}`, userId: "u1" }),
      );
    expect(slow.findings()).toEqual([]);
    const fast = harness();
    for (let i = 0; i < 10; i++)
      await fast.detector.observe(
        signal(T0 + i * 30_000, { kind: "sign_in_failed", ip: `198.51.100.${i}`, userId: "u1" }),
      );
    expect(types(fast.findings())).toEqual(["brute_force_user"]);
  });
  it("an aggregated signal counts as many failures as it stands for (a flood from one IP, a log batch), once per retry", async () => {
    const { detector, findings } = harness();
    const flood = signal(T0, { kind: "unauthenticated", ip: "203.0.113.44", orgId: undefined, count: 30 });
    await detector.observe(flood);
    await detector.observe(flood);
    expect(types(findings())).toEqual(["brute_force_ip"]);
    // Nine failures in one item are still below the threshold of ten.
    const few = harness();
    await few.detector.observe(
      signal(T0, { kind: "unauthenticated", ip: "203.0.113.45", orgId: undefined, count: 9 }),
    );
    expect(few.findings()).toEqual([]);
    // The count survives the trip through the stored item.
    const stored = signalObservation({
      pk: "PLATFORM#SIGNALS",
      sk: flood.id,
      kind: "unauthenticated",
      at: flood.signal.at,
      ip: "203.0.113.44",
      count: 30,
    });
    expect(stored?.signal.count).toBe(30);
  });
  it("a window spanning two buckets still counts (sliding, not fixed)", async () => {
    const { detector, findings } = harness();
    const boundary = Math.ceil(T0 / 600_000) * 600_000;
    for (let i = 0; i < 10; i++)
      await detector.observe(
        signal(boundary - 5 * 60_000 + i * 60_000, { kind: "sign_in_failed", ip: "203.0.113.7" }),
      );
    expect(types(findings())).toEqual(["brute_force_ip"]);
  });
});

describe("repeated denials and blocks", () => {
  it("denials of one user in the window; every block", async () => {
    const { detector, findings } = harness();
    for (let i = 0; i < 5; i++)
      await detector.observe(signal(T0 + i * 1000, { kind: "denied", userId: "coach-2" }));
    await detector.observe(signal(T0 + 10_000, { kind: "blocked", userId: "coach-2", reason: "denials" }));
    expect(types(findings())).toEqual(["principal_blocked", "repeated_denials"]);
  });
});

describe("bulk reads and exports", () => {
  it("one list page of many clients, many clients within the window, and any export", async () => {
    const page = harness();
    await page.detector.observe(
      entry(T0, { action: "client.list", phiClients: Array.from({ length: 40 }, (_, i) => `c${i}`) }),
    );
    expect(types(page.findings())).toEqual(["bulk_read"]);
    expect(page.findings()[0]?.subject.clientCount).toBeUndefined();
    expect(page.findings()[0]?.evidence.count).toBe(40);

    const spread = harness();
    for (let i = 0; i < 40; i++)
      await spread.detector.observe(entry(T0 + i * 10_000, { phiClients: [`c${i}`] }));
    expect(types(spread.findings())).toEqual(["bulk_read"]);

    const rereads = harness();
    for (let i = 0; i < 100; i++)
      await rereads.detector.observe(entry(T0 + i * 1000, { phiClients: [`c${i % 10}`] }));
    expect(rereads.findings()).toEqual([]);

    const exported = harness();
    await exported.detector.observe(entry(T0, { action: "client.export", phiClients: ["c1"] }));
    expect(exported.findings().map((finding) => [finding.rule, finding.type])).toEqual([
      ["export", "bulk_access"],
    ]);
  });
});

describe("list crawls", () => {
  it("a lead listing 39 new clients every 11 minutes all day is a bulk finding within the hour, and excessive against a baseline", async () => {
    const settings = TenantSettingsSchema.parse({
      businessHours: { timeZone: "UTC", days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "23:59" },
    });
    const { detector, findings } = harness({ settings });
    const lead = { type: "user" as const, id: "lead-1", role: "coach_lead" };
    // Two weeks of reviews: a page of a coach's 30 clients and a few notes a day.
    for (let day = 0; day < 14; day++) {
      await detector.observe(
        entry(T0 + day * DAY, {
          actor: lead,
          action: "client.list",
          phiClients: Array.from({ length: 30 }, (_, i) => `c${(day % 3) * 30 + i}`),
        }),
      );
    }
    expect(findings()).toEqual([]);
    const crawl = T0 + 14 * DAY;
    for (let page = 0; page < 39; page++)
      await detector.observe(
        entry(crawl + page * 11 * 60_000, {
          actor: lead,
          action: "client.list",
          phiClients: Array.from({ length: 39 }, (_, i) => `new-${page * 39 + i}`),
        }),
      );
    const rules = new Set(findings().map((finding) => finding.rule));
    expect(rules).toContain("bulk_read_sustained");
    expect(rules).toContain("excessive_access_lists");
    expect(rules).not.toContain("bulk_read");
    const first = findings().find((finding) => finding.rule === "bulk_read_sustained");
    // 39 clients a page, the third page within the hour reaches 100 distinct clients.
    expect(Date.parse(first?.window.to ?? "") - crawl).toBeLessThanOrEqual(HOUR);
  });
});

describe("excessive access", () => {
  const settingsFor = () =>
    TenantSettingsSchema.parse({
      businessHours: { timeZone: "UTC", days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "23:59" },
    });
  async function days(detector: ReturnType<typeof harness>["detector"], counts: number[], user = "coach-1") {
    for (const [day, count] of counts.entries())
      for (let c = 0; c < count; c++)
        await detector.observe(
          entry(T0 + day * DAY + c * 300_000, {
            actor: { type: "user", id: user, role: "coach" },
            phiClients: [`${user}-c${c}`],
          }),
        );
  }
  it("far above the user's and the org's baselines raises; a slowly growing caseload never does", async () => {
    const settings = settingsFor();
    const growing = harness({ settings });
    await days(
      growing.detector,
      Array.from({ length: 30 }, (_, day) => 8 + day),
    ); // 8 … 37 clients a day
    expect(growing.findings()).toEqual([]);

    const spike = harness({ settings });
    await days(spike.detector, [...Array.from({ length: 14 }, () => 8), 30]);
    // Records opened count toward both rules (records opened, every client seen): one finding between them.
    expect(types(spike.findings())).toEqual(["excessive_access"]);
    expect(spike.findings()[0]).toMatchObject({
      subject: { userId: "coach-1", clientCount: 25 },
      evidence: { userBaseline: 8, orgBaseline: 8, factor: 3 },
    });
  });
  it("below the minimum, or within the org's baseline, does not", async () => {
    const settings = settingsFor();
    const small = harness({ settings });
    await days(small.detector, [...Array.from({ length: 14 }, () => 2), 14]);
    expect(small.findings()).toEqual([]);
    // A lead who always reads many: their own baseline is high.
    const lead = harness({ settings });
    await days(lead.detector, [...Array.from({ length: 14 }, () => 40), 60], "lead-1");
    expect(lead.findings()).toEqual([]);
  });
});

describe("access by a disabled or blocked account", () => {
  it("raises for an entry after the account was disabled, not for one before", async () => {
    const since = new Date(T0).toISOString();
    const { detector, findings } = harness({ accounts: { "coach-1": { active: false, since } } });
    await detector.observe(entry(T0 - 1000));
    expect(findings()).toEqual([]);
    await detector.observe(entry(T0 + 1000));
    expect(
      findings().map((finding) => [finding.rule, finding.severity, finding.evidence.accountState]),
    ).toEqual([["inactive_account_entry", "critical", "disabled"]]);
  });
  it("raises for an entry inside a block (until it is lifted), and for every inactive_account signal", async () => {
    const { detector, findings } = harness();
    await detector.observe(signal(T0, { kind: "blocked", userId: "coach-1" }));
    await detector.observe(entry(T0 + 60_000, { phiClients: [] }));
    expect(types(findings())).toEqual(["inactive_account_entry", "principal_blocked"]);
    const lifted = harness();
    await lifted.detector.observe(signal(T0, { kind: "blocked", userId: "coach-1" }));
    await lifted.detector.observe(signal(T0 + 30_000, { kind: "unblocked", userId: "coach-1" }));
    await lifted.detector.observe(entry(T0 + 60_000, { phiClients: [] }));
    expect(types(lifted.findings())).toEqual(["principal_blocked"]);
    await lifted.detector.observe(signal(T0 + 90_000, { kind: "inactive_account", userId: "coach-9" }));
    expect(types(lifted.findings())).toContain("inactive_account_signal");
  });
});

describe("observations from stored items", () => {
  it("only signals' sort keys are observations of the security table (never the detectors' own writes)", () => {
    const at = "2026-03-02T15:00:00.000Z";
    expect(
      signalObservation({ pk: "ORG#o#SIGNALS", sk: `SIGNAL#${at}#denied#r1`, kind: "denied", at }),
    ).toMatchObject({
      id: `SIGNAL#${at}#denied#r1`,
      signal: { kind: "denied", at },
    });
    expect(signalObservation({ pk: "ORG#o#EVENTS", sk: "EVENT#x", kind: "denied", at })).toBeUndefined();
    expect(signalObservation({ pk: "ORG#o#DETECT", sk: "W#x", kind: "denied", at })).toBeUndefined();
    expect(signalObservation({ pk: "ORG#o#SIGNALS", sk: "SIGNAL#x", kind: "nonsense", at })).toBeUndefined();
    expect(auditObservation({ pk: "ORG#o#SHARD#0", seq: 1, entry: "{}" })).toBeUndefined();
  });
  it("evidence carries counts, ids and times, never a client id", async () => {
    const { detector, findings } = harness();
    await detector.observe(
      entry(T0, { action: "client.list", phiClients: Array.from({ length: 45 }, (_, i) => `client-${i}`) }),
    );
    expect(JSON.stringify(findings())).not.toContain("client-");
  });
});

describe("inactive_account signals", () => {
  it("a disabled user's token sending thousands of requests raises one finding per user and hour, not one per signal", async () => {
    const { detector, findings } = harness();
    for (let i = 0; i < 200; i++)
      await detector.observe(signal(T0 + i * 10_000, { kind: "inactive_account", userId: "coach-9" }));
    await detector.observe(signal(T0 + 10_000, { kind: "inactive_account", userId: "coach-8" }));
    // 200 signals 10 s apart span 33 minutes from 15:00 UTC: one hour, two users.
    expect(findings().map((finding) => [finding.rule, finding.subject.userId, finding.dedupeKey])).toEqual([
      ["inactive_account_signal", "coach-9", "inactive_account_signal#coach-9#2026-03-02T15"],
      ["inactive_account_signal", "coach-8", "inactive_account_signal#coach-8#2026-03-02T15"],
    ]);
    await detector.observe(signal(T0 + HOUR, { kind: "inactive_account", userId: "coach-9" }));
    expect(findings()).toHaveLength(3);
  });
});
