import "./quiet-logs";
import { rmSync } from "node:fs";
import { cpus } from "node:os";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { auditEntry, ChainWriter } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { createDetector, DynamoState, localTime, MemoryState } from "../../shared/detection";
import { userItem } from "../../shared/people";
import { eventPartition, recordSignal, type SecurityEvent, type Signal } from "../../shared/security";
import { BUILT_IN_SETTINGS } from "../../shared/settings";
import { queryAll } from "../../shared/store";
import { ATTACK_KINDS, type Attack, generate, SCORED_DAYS } from "./detect-activity";
import { saveResults } from "./results";
import { startBenchStack } from "./stack";

/**
 * `npm run bench:detect`: the detectors against a month of generated activity with labelled attacks
 * (`detect-activity.ts`, seed BENCH_DETECT_SEED, default 11), run through the same engine and rules as
 * the live stream jobs with their state in memory behind the same port; then the detection latency
 * measured through the real path on a local stack: the audit entry or signal that completes an attack is
 * written (ChainWriter / recordSignal), the local stream poller hands it to the detector jobs, and the
 * clock stops when the finding is in the security table (BENCH_DETECT_SAMPLES samples, default 30).
 * Targets: ≥ 95% of attacks detected, ≤ 1 false alert per 100 users per week, p95 latency ≤ 60 s.
 */
const SEED = Number(process.env.BENCH_DETECT_SEED ?? 11);
const SAMPLES = Number(process.env.BENCH_DETECT_SAMPLES ?? 30);
const POLL_MS = Number(process.env.BENCH_DETECT_POLL_MS ?? 1000);
/** A finding counts for an attack when it is about its subject and raised from its start to an hour after its end. */
const GRACE_MS = 3_600_000;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// 1. The month, in memory.
function evaluate() {
  const world = generate(SEED);
  let clock = 0;
  const findings = new Map<string, SecurityEvent>();
  const settings = new Map(world.orgs.map((org) => [org.id, org.settings]));
  const detector = createDetector({
    state: new MemoryState(),
    settings: async (orgId) => (orgId && settings.get(orgId)) || BUILT_IN_SETTINGS,
    account: async (_orgId, userId) => {
      const off = world.disabled.get(userId);
      const disabledNow = off && off.from <= clock && clock < off.until;
      // The directory's answer at the time the entry is judged (seconds later): as `updatedAt`, the last change.
      if (disabledNow) return { active: false, since: new Date(off.from).toISOString() };
      return { active: true, since: new Date(off && clock >= off.until ? off.until : 0).toISOString() };
    },
    raise: async (event) => {
      if (!findings.has(event.dedupeKey)) findings.set(event.dedupeKey, event);
    },
    now: () => clock,
  });
  const started = performance.now();
  return (async () => {
    for (const observation of world.observations) {
      clock = observation.at;
      await detector.observe(observation);
    }
    const elapsedMs = performance.now() - started;
    const scored = [...findings.values()].filter((finding) => {
      const at = Date.parse(finding.at);
      return at >= world.scoredFrom && at < world.scoredTo;
    });
    /**
     * About the attack's subject, raised from its start on, and counting what it did: raised within the
     * grace after its end, or over a window that began within it (a day's count that the attack's own
     * reads pushed over the threshold, raised by a later read of that day).
     */
    const about = (finding: SecurityEvent, attack: Attack) => {
      const at = Date.parse(finding.at);
      const subject = attack.userId
        ? finding.subject.userId === attack.userId
        : finding.subject.ip === attack.ip;
      const counted = at <= attack.end + GRACE_MS || Date.parse(finding.window.from) <= attack.end;
      return subject && at >= attack.start && counted;
    };
    const perAttack = world.attacks.map((attack) => {
      const hits = scored.filter(
        (finding) => attack.expects.includes(finding.type) && about(finding, attack),
      );
      const first = Math.min(...hits.map((finding) => Date.parse(finding.at)));
      return {
        attack,
        detected: hits.length > 0,
        timeToDetectMs: hits.length > 0 ? first - attack.start : undefined,
      };
    });
    const falseAlerts = scored.filter((finding) => !world.attacks.some((attack) => about(finding, attack)));
    const weeks = SCORED_DAYS / 7;
    return {
      seed: SEED,
      users: world.users,
      orgs: world.orgs.map((org) => ({ id: org.id, timeZone: org.timeZone, users: org.users.length })),
      observations: world.observations.length,
      evaluationMs: Math.round(elapsedMs),
      byKind: ATTACK_KINDS.map((kind) => {
        const rows = perAttack.filter((row) => row.attack.kind === kind);
        const detected = rows.filter((row) => row.detected);
        return {
          kind,
          injected: rows.length,
          detected: detected.length,
          recall: detected.length / rows.length,
          p95TimeToDetectMinutes: percentile(
            detected.map((row) => (row.timeToDetectMs as number) / 60_000),
            95,
          ),
        };
      }),
      injected: perAttack.length,
      detected: perAttack.filter((row) => row.detected).length,
      findings: scored.length,
      falseAlerts: falseAlerts.length,
      falseAlertsPer100UsersPerWeek: falseAlerts.length / (world.users / 100) / weeks,
      // Each false alert, to judge (ids of generated users and times only).
      falseAlertList: falseAlerts.map((finding) => ({
        rule: finding.rule,
        subject: finding.subject.userId ?? finding.subject.ip,
        window: finding.window,
        count: finding.evidence.count,
      })),
      falseAlertsByRule: Object.fromEntries(
        [...new Set(falseAlerts.map((finding) => finding.rule))].map((rule) => [
          rule,
          falseAlerts.filter((finding) => finding.rule === rule).length,
        ]),
      ),
    };
  })();
}

// 2. Latency through the real path: the write that completes an attack → the finding in the security table.
type Scenario =
  | "break_glass"
  | "after_hours_access"
  | "brute_force_ip"
  | "repeated_denials"
  | "inactive_account_entry"
  | "excessive_access";
const SCENARIOS: Scenario[] = [
  "break_glass",
  "after_hours_access",
  "brute_force_ip",
  "repeated_denials",
  "inactive_account_entry",
  "excessive_access",
];

async function measureLatency() {
  const stack = await startBenchStack({ inMemoryFs: true, streamPollMs: POLL_MS });
  const writer = new ChainWriter();
  const meta = (n: string) => ({ requestId: `bench-${n}`, sourceIp: "127.0.0.1", userAgent: "bench" });
  const samples: { scenario: Scenario; ms: number }[] = [];
  try {
    const findingIn = async (orgId: string | undefined, rule: string, subject: string, t0: number) => {
      for (;;) {
        const items = await queryAll<{ rule?: string; dedupeKey?: string }>({
          TableName: getConfig().TABLE_SECURITY,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :finding)",
          ExpressionAttributeValues: { ":pk": eventPartition(orgId), ":finding": "EVENT#" },
        });
        if (items.some((item) => item.rule === rule && item.dedupeKey?.startsWith(`${rule}#${subject}#`)))
          return performance.now() - t0;
        if (performance.now() - t0 > 120_000) throw new Error(`no ${rule} finding for ${subject}`);
        await sleep(25);
      }
    };
    // A recent instant at 03:xx in New York (the platform default's zone): after hours.
    let night = Date.now() - 60_000;
    while (localTime(night, "America/New_York").clock.slice(0, 2) !== "03") night -= 600_000;
    for (let i = 0; i < SAMPLES; i++) {
      const scenario = SCENARIOS[i % SCENARIOS.length] as Scenario;
      const orgId = `bench-detect-${i}`;
      const userId = `user-${i}`;
      const principal = { userId, orgId, role: "coach" as const };
      const read = (n: number, time?: number) => {
        const entry = auditEntry(
          principal,
          meta(`${i}-${n}`),
          "client.read",
          { type: "client", id: `c${n}`, clientId: `c${n}` },
          ["name"],
        );
        return writer.append(time ? { ...entry, time: new Date(time + n * 1000).toISOString() } : entry);
      };
      const signal = (n: number, fields: Omit<Signal, "at">) =>
        recordSignal({ at: new Date().toISOString(), requestId: `bench-${i}-${n}`, ...fields });
      let complete: () => Promise<unknown>;
      let subject = userId;
      let findingOrg: string | undefined = orgId;
      if (scenario === "break_glass") {
        subject = `grant-${i}`;
        complete = () =>
          writer.append(
            auditEntry(
              principal,
              meta(`${i}`),
              "breakglass.grant",
              { type: "grant", id: subject, clientId: "c1" },
              [],
            ),
          );
      } else if (scenario === "after_hours_access") {
        for (let n = 0; n < 4; n++) await read(n, night);
        complete = () => read(4, night);
      } else if (scenario === "brute_force_ip") {
        subject = `203.0.113.${i}`;
        findingOrg = undefined;
        for (let n = 0; n < 9; n++) await signal(n, { kind: "unauthenticated", ip: subject });
        complete = () => signal(9, { kind: "unauthenticated", ip: subject });
      } else if (scenario === "repeated_denials") {
        for (let n = 0; n < 4; n++)
          await signal(n, { kind: "denied", orgId, userId, route: "clients/get", reason: "policy" });
        complete = () => signal(4, { kind: "denied", orgId, userId, route: "clients/get", reason: "policy" });
      } else if (scenario === "inactive_account_entry") {
        const past = new Date(Date.now() - 3_600_000).toISOString();
        await aws("dynamo").send(
          new PutCommand({
            TableName: getConfig().TABLE_DIRECTORY,
            Item: userItem({
              userId,
              orgId,
              email: "x@example.com",
              role: "coach",
              status: "disabled",
              version: 2,
              createdAt: past,
              updatedAt: past,
            }),
          }),
        );
        complete = () => read(0);
      } else {
        // Fourteen earlier days of five clients a day (the detectors' own state), then sixteen today.
        const state = new DynamoState();
        const today = localTime(Date.now(), "America/New_York").day;
        for (let d = 1; d <= 14; d++) {
          const day = new Date(Date.parse(`${today}T12:00:00Z`) - d * 86_400_000).toISOString().slice(0, 10);
          await state.add(
            { partition: `ORG#${orgId}#DETECT`, key: `C#excessive_access#${day}#${userId}` },
            ["1#a", "1#b", "1#c", "1#d", "1#e"],
            Math.floor(Date.now() / 1000) + 86_400,
          );
        }
        for (let n = 0; n < 15; n++) await read(n);
        complete = () => read(15);
      }
      // What came before has been read (only the completing write is timed), and the write lands at a random
      // point of the poll cycle.
      await sleep(2 * POLL_MS + 1000 + Math.random() * POLL_MS);
      const t0 = performance.now();
      await complete();
      samples.push({ scenario, ms: await findingIn(findingOrg, scenario, subject, t0) });
    }
  } finally {
    await stack.stop();
    rmSync(stack.dir, { recursive: true, force: true });
  }
  const all = samples.map((sample) => sample.ms);
  return {
    pollIntervalMs: POLL_MS,
    samples: samples.length,
    method:
      "local stack: the completing audit entry (ChainWriter.append) or signal (recordSignal) is written; the local poller of the table's stream (every pollIntervalMs) runs detectAudit/detectSignals; the clock runs from before the write until a Query of the org's findings partition (every 25 ms) returns the finding",
    p50Ms: percentile(all, 50),
    p95Ms: percentile(all, 95),
    maxMs: Math.max(...all),
    byScenario: SCENARIOS.map((scenario) => {
      const ms = samples.filter((sample) => sample.scenario === scenario).map((sample) => sample.ms);
      return { scenario, samples: ms.length, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95) };
    }),
  };
}

const quality = await evaluate();
const latency = SAMPLES > 0 ? await measureLatency() : undefined;
const recall = quality.detected / quality.injected;
const report = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length },
  quality,
  latency,
  targets: {
    recallAtLeast95: recall >= 0.95,
    falseAlertsAtMost1Per100UsersPerWeek: quality.falseAlertsPer100UsersPerWeek <= 1,
    p95LatencyAtMost60s: latency ? latency.p95Ms <= 60_000 : undefined,
  },
};
const file = saveResults("detect", report);
console.log(
  `\nDetectors over a generated month (seed ${SEED}): ${quality.users} users in ${quality.orgs.length} orgs, ${quality.observations} observations (+2 weeks' warm-up), evaluated in ${quality.evaluationMs} ms`,
);
console.table(
  quality.byKind.map((row) => ({
    attack: row.kind,
    injected: row.injected,
    detected: row.detected,
    recall: `${(row.recall * 100).toFixed(0)}%`,
    "p95 time to detect (min, simulated)": row.p95TimeToDetectMinutes.toFixed(1),
  })),
);
console.log(
  `All attacks: ${quality.detected}/${quality.injected} detected (${(recall * 100).toFixed(1)}%); findings ${quality.findings}; false alerts ${quality.falseAlerts} = ${quality.falseAlertsPer100UsersPerWeek.toFixed(2)} per 100 users per week`,
  quality.falseAlertsByRule,
);
if (latency) {
  console.log(
    `\nDetection latency on the local stack (stream poll ${latency.pollIntervalMs} ms, ${latency.samples} samples)`,
  );
  console.table(
    latency.byScenario.map((row) => ({
      finding: row.scenario,
      samples: row.samples,
      "p50 ms": row.p50Ms.toFixed(0),
      "p95 ms": row.p95Ms.toFixed(0),
    })),
  );
  console.log(
    `All: p50 ${latency.p50Ms.toFixed(0)} ms, p95 ${latency.p95Ms.toFixed(0)} ms, max ${latency.maxMs.toFixed(0)} ms`,
  );
}
console.log("Targets", report.targets);
console.log(`Results written to ${file}`);
