import "./quiet-logs";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { cpus } from "node:os";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { GRANT_RECORD_PREFIX } from "../../shared/access";
import {
  type AuditEntry,
  auditEntry,
  canonicalEntry,
  chainHash,
  chainId,
  GENESIS_HASH,
  writeCheckpoint,
} from "../../shared/audit";
import { disclosurePartition, indexAttributes, subjectsOf } from "../../shared/audit/chain";
import { aws } from "../../shared/aws";
import {
  CHECKS,
  type CheckDefinition,
  generateReport,
  renderReportHtml,
  reportActivity,
} from "../../shared/compliance";
import { getConfig } from "../../shared/config";
import { clientKey } from "../../shared/store/client-record";
import { saveResults } from "./results";
import { startBenchStack } from "./stack";

/**
 * `npm run bench:report`: one org with BENCH_REPORT_CLIENTS clients (default 10,000) and
 * BENCH_REPORT_ENTRIES audit entries of history (default 1,000,000), written straight into DynamoDB Local
 * with BatchWrite in valid chain form (with their index attributes and disclosure pointers), a signed
 * checkpoint at the end of the history and the witness's heads; then a period of activity after it (PHI
 * reads, lists, break-glass grants), written in steps (BENCH_REPORT_PERIODS, default 5,000, 15,000 and
 * 30,000 entries). After each step a report covers everything since the checkpoint (`generateReport` with
 * `CHECKS`, `reportActivity` and `renderReportHtml`), timed, with process memory sampled every 100 ms
 * (RSS and heap, after collecting the fixture's garbage): the cost follows the period's activity over the
 * same history. Run with a smaller BENCH_REPORT_ENTRIES to see it does not follow the history. Results: test/bench/results/report.json. Takes
 * minutes (the history fixture); prints progress. Not part of `npm test`.
 */
const CLIENTS = Number(process.env.BENCH_REPORT_CLIENTS ?? 10_000);
const ENTRIES = Number(process.env.BENCH_REPORT_ENTRIES ?? 1_000_000);
/** Entries written after the checkpoint before each report: about a day of this org (1M over 180 days), then more. */
const PERIODS = (process.env.BENCH_REPORT_PERIODS ?? "5000,15000,30000").split(",").map(Number);
const COACHES = 200;
const BATCH = 25;
const WRITES_IN_FLIGHT = 8;
const ROUND = 50_000;
const ORG = "bench-report";
const DAY_MS = 86_400_000;

type Put = { table: string; item: Record<string, unknown> };

async function writeAll(puts: readonly Put[]) {
  let next = 0;
  const worker = async () => {
    while (next * BATCH < puts.length) {
      const batch = puts.slice(next * BATCH, ++next * BATCH);
      let requestItems: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> = {};
      for (const put of batch) {
        requestItems[put.table] = [...(requestItems[put.table] ?? []), { PutRequest: { Item: put.item } }];
      }
      while (Object.keys(requestItems).length > 0) {
        const out = await aws("dynamo").send(new BatchWriteCommand({ RequestItems: requestItems }));
        requestItems = (out.UnprocessedItems ?? {}) as typeof requestItems;
      }
    }
  };
  await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, worker));
}

const meta = { requestId: "bench", sourceIp: "10.0.0.1", userAgent: "bench" };
const clientOf = (n: number) => `00000000-0000-4000-8000-${String(n % CLIENTS).padStart(12, "0")}`;

/** A day's mix: mostly single-record reads (PHI of one client), some list pages, some reads without PHI. */
function activity(n: number, time: number): AuditEntry {
  const coach = n % COACHES;
  const principal = { userId: `bench-coach-${coach}`, orgId: ORG, role: "coach" as const };
  const request = { ...meta, requestId: `r${n}` };
  const kind = n % 10;
  const entry =
    kind < 6
      ? auditEntry(
          principal,
          request,
          "client.read",
          { type: "client", id: clientOf(n), clientId: clientOf(n) },
          ["name", "phone"],
          { relationship: "assigned", breakGlass: false },
        )
      : kind === 6
        ? {
            ...auditEntry(
              principal,
              request,
              "client.list",
              { type: "client", id: "*", clientIds: [0, 1, 2, 3, 4].map((i) => clientOf(n + i * COACHES)) },
              ["name"],
            ),
            basis: ["assigned" as const],
          }
        : auditEntry(principal, request, "session.list", { type: "session", id: "*" }, [], {
            relationship: "assigned",
            breakGlass: false,
          });
  return { ...entry, time: new Date(time).toISOString() };
}

/** Appends entries to the org's chains in chain form, as the chain writer would have made them. */
function chainWriter() {
  const { TABLE_AUDIT, TABLE_RECORDS, AUDIT_SHARDS } = getConfig();
  const heads = Array.from({ length: AUDIT_SHARDS }, () => ({ seq: 0, hash: GENESIS_HASH }));
  let written = 0;
  return {
    heads: () => heads.map((head, shard) => ({ chain: chainId(ORG, shard), ...head })),
    async write(count: number, from: number, to: number, label: string) {
      for (let done = 0; done < count; ) {
        const puts: Put[] = [];
        const end = Math.min(count, done + ROUND);
        for (; done < end; done++, written++) {
          const shard = written % AUDIT_SHARDS;
          const chain = chainId(ORG, shard);
          const head = heads[shard] as { seq: number; hash: string };
          const entry = activity(written, from + Math.floor(((to - from) * done) / count));
          const text = canonicalEntry(entry);
          const seq = head.seq + 1;
          const hash = chainHash(head.hash, seq, text);
          const index = indexAttributes(entry, chain, seq);
          puts.push({
            table: TABLE_AUDIT,
            item: { pk: chain, seq, prevHash: head.hash, hash, entry: text, ...index },
          });
          for (const clientId of subjectsOf(entry))
            puts.push({
              table: TABLE_RECORDS,
              item: { pk: disclosurePartition(ORG, clientId), sk: index.at, chain, seq },
            });
          heads[shard] = { seq, hash };
        }
        await writeAll(puts);
        console.log(`${label}: ${done.toLocaleString()} / ${count.toLocaleString()} entries`);
      }
    },
  };
}

async function writeClients(createdAt: string) {
  const puts: Put[] = Array.from({ length: CLIENTS }, (_, n) => ({
    table: getConfig().TABLE_RECORDS,
    item: {
      ...clientKey(ORG, clientOf(n)),
      clientId: clientOf(n),
      status: "active",
      version: 1,
      createdAt,
      updatedAt: createdAt,
      createdBy: `bench-coach-${n % COACHES}`,
      coaches: [`bench-coach-${n % COACHES}`],
      phi: {},
    },
  }));
  await writeAll(puts);
}

/** The witness's record of each chain's head (the stream jobs do not run here: they would read every insert). */
async function witnessHeads(heads: { chain: string; seq: number; hash: string }[], seenAt: string) {
  await writeAll(
    heads.map((head) => ({
      table: getConfig().TABLE_WITNESS,
      item: { pk: head.chain, seq: head.seq, hash: head.hash, seenAt },
    })),
  );
}

/** A few break-glass grants in a period, most reviewed in time. */
async function writeGrants(count: number, from: number, to: number) {
  await writeAll(
    Array.from({ length: count }, (_, n) => {
      const grantId = randomUUID();
      const grantedAt = from + Math.floor(((to - from) * n) / count);
      return {
        table: getConfig().TABLE_RECORDS,
        item: {
          pk: `ORG#${ORG}`,
          sk: `${GRANT_RECORD_PREFIX}${grantId}`,
          grantId,
          clientId: clientOf(n),
          userId: `bench-coach-${n}`,
          grantedAt: new Date(grantedAt).toISOString(),
          expiresAt: new Date(grantedAt + 3_600_000).toISOString(),
          status: "reviewed",
          reviewedBy: "bench-officer",
          reviewedAt: new Date(grantedAt + 7_200_000).toISOString(),
        },
      };
    }),
  );
}

function memorySampler() {
  const peak = { rss: 0, heap: 0 };
  const sample = () => {
    const { rss, heapUsed } = process.memoryUsage();
    peak.rss = Math.max(peak.rss, rss);
    peak.heap = Math.max(peak.heap, heapUsed);
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    peak,
    stop: () => {
      sample();
      clearInterval(timer);
    },
  };
}

const MB = 1024 * 1024;

/** Each check's own time (checks run 6 at a time, so these overlap: they show where the time goes). */
function timedChecks(seconds: Map<string, number>): CheckDefinition[] {
  return CHECKS.map((check) => ({
    ...check,
    evaluate: async (context) => {
      const started = performance.now();
      try {
        return await check.evaluate(context);
      } finally {
        seconds.set(check.id, (performance.now() - started) / 1000);
      }
    },
  }));
}

const collect = () => (globalThis as { gc?: () => void }).gc?.();

async function timedReport(now: Date, from: Date) {
  const checkSeconds = new Map<string, number>();
  // The fixture's garbage collected first: the peak is the report's (run with --expose-gc).
  collect();
  const baseline = process.memoryUsage();
  const memory = memorySampler();
  const started = performance.now();
  const { body } = await generateReport({
    reportId: randomUUID(),
    orgId: ORG,
    now,
    from: from.toISOString(),
    history: [],
    checks: timedChecks(checkSeconds),
    activity: async (context) => {
      const begun = performance.now();
      try {
        return await reportActivity(context);
      } finally {
        checkSeconds.set("(activity)", (performance.now() - begun) / 1000);
      }
    },
    defaultFrom: () => from,
  });
  const html = renderReportHtml(body);
  const seconds = (performance.now() - started) / 1000;
  memory.stop();
  return {
    body,
    html,
    seconds,
    baselineRssMB: baseline.rss / MB,
    baselineHeapMB: baseline.heapUsed / MB,
    peakRssMB: memory.peak.rss / MB,
    peakHeapMB: memory.peak.heap / MB,
    checkSeconds: Object.fromEntries(
      [...checkSeconds].sort((a, b) => b[1] - a[1]).map(([id, s]) => [id, Math.round(s * 10) / 10]),
    ),
  };
}

const stack = await startBenchStack({ inMemoryFs: true, streamPollMs: 0 });
try {
  const now = Date.now();
  const checkpointAt = now - 2 * DAY_MS;
  const fixtureStarted = performance.now();
  await writeClients(new Date(now - 200 * DAY_MS).toISOString());
  console.log(`fixture: ${CLIENTS.toLocaleString()} clients`);
  const chains = chainWriter();
  await chains.write(ENTRIES, now - 180 * DAY_MS, checkpointAt - 60_000, "history");
  const checkpoint = await writeCheckpoint(ORG, new Date(checkpointAt));
  await witnessHeads(chains.heads(), new Date(checkpointAt).toISOString());
  console.log(`fixture: checkpoint ${checkpoint.checkpoint.number} over ${chains.heads().length} chains`);
  const fixtureSeconds = (performance.now() - fixtureStarted) / 1000;

  const runs = [];
  let periodEntries = 0;
  // The steps share the time from the checkpoint to 20 minutes ago.
  const span = now - 20 * 60_000 - checkpointAt;
  const ends = PERIODS.map((_, index) => checkpointAt + Math.round((span * (index + 1)) / PERIODS.length));
  for (const [index, count] of PERIODS.entries()) {
    const start = index === 0 ? checkpointAt : (ends[index - 1] as number);
    const end = ends[index] as number;
    await chains.write(count, start, end, `period ${index + 1}`);
    await writeGrants(5, start, end);
    await witnessHeads(chains.heads(), new Date(end).toISOString());
    periodEntries += count;
    const reportNow = new Date(end + 10 * 60_000);
    const run = await timedReport(reportNow, new Date(checkpointAt));
    const statuses = Object.fromEntries(run.body.checks.map((check) => [check.id, check.status]));
    runs.push({
      historyEntries: ENTRIES,
      periodEntries,
      seconds: run.seconds,
      baselineRssMB: run.baselineRssMB,
      peakRssMB: run.peakRssMB,
      baselineHeapMB: run.baselineHeapMB,
      peakHeapMB: run.peakHeapMB,
      score: run.body.score.value,
      htmlBytes: run.html.length,
      phiAccessRows: run.body.activity.phiAccessesByDay.length,
      grants: run.body.activity.breakGlass.length,
      statuses,
      checkSeconds: run.checkSeconds,
    });
    console.log(
      `report over a period of ${periodEntries.toLocaleString()} entries: ${run.seconds.toFixed(1)} s`,
    );
  }
  const result = {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length },
    clients: CLIENTS,
    historyEntries: ENTRIES,
    shards: getConfig().AUDIT_SHARDS,
    fixtureSeconds,
    runs,
    targets: {
      seconds: runs.every((run) => run.seconds <= 60),
      memory: runs.every((run) => run.peakRssMB <= 1024),
    },
  };
  const file = saveResults("report", result);
  console.log("\nCompliance report over DynamoDB Local (one process: stack, checks, activity, HTML)");
  console.table(
    runs.map((run) => ({
      "history entries": run.historyEntries,
      "period entries": run.periodEntries,
      "report s": run.seconds.toFixed(1),
      "RSS MB (before → peak)": `${run.baselineRssMB.toFixed(0)} → ${run.peakRssMB.toFixed(0)}`,
      "heap MB (before → peak)": `${run.baselineHeapMB.toFixed(0)} → ${run.peakHeapMB.toFixed(0)}`,
      score: run.score,
    })),
  );
  console.log("Statuses (last run)", runs.at(-1)?.statuses);
  console.log("Seconds per check (last run; they overlap)", runs.at(-1)?.checkSeconds);
  console.log("Targets (≤ 60 s, ≤ 1 GB)", result.targets);
  console.log(`Results written to ${file}`);
} finally {
  await stack.stop();
  rmSync(stack.dir, { recursive: true, force: true });
}
