import "./quiet-logs";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { cpus } from "node:os";
import { BatchWriteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { loadVerificationJob, newVerificationJob } from "../../functions/audit/verification";
import {
  type AuditEntry,
  auditEntry,
  canonicalEntry,
  chainHash,
  chainId,
  GENESIS_HASH,
  writeCheckpoint,
} from "../../shared/audit";
import { disclosurePartition, indexAttributes } from "../../shared/audit/chain";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { startJob } from "../../shared/jobs";
import { saveResults } from "./results";
import { startBenchStack } from "./stack";

/**
 * `npm run bench:verify`: writes BENCH_VERIFY_ENTRIES audit entries (default 1,000,000) into DynamoDB Local
 * for one org, spread over its chains with a share of them naming a client (and so a disclosure pointer)
 * and a signed checkpoint after every tenth of them, then starts the verification job on them exactly as
 * the route does and waits for its report. The job runs in this process (the local Lambda endpoint),
 * with its 5-minute budget per run, handing on to the next run as it would in the cloud.
 * Reports entries verified per second, the runs it took and memory: peak RSS, and the peak live heap
 * (after a full collection, sampled each second) against the live heap before (stack included).
 * Results: test/bench/results/verify.json.
 * Takes several minutes (most of it the fixture, on tmpfs where there is one); not part of `npm test`.
 */
const ENTRIES = Number(process.env.BENCH_VERIFY_ENTRIES ?? 1_000_000);
/** Share of entries that name a client, each with a pointer in the records table. */
const DISCLOSING = Number(process.env.BENCH_VERIFY_DISCLOSING ?? 0.2);
const ROUNDS = 10;
const BATCH = 25;
const WRITES_IN_FLIGHT = 8;
const ORG = "bench-verify";

const meta = { requestId: "bench", sourceIp: "127.0.0.1", userAgent: "bench" };
const template = (n: number): AuditEntry =>
  auditEntry(
    { userId: `bench-coach-${n % 50}`, orgId: ORG, role: "coach" },
    { ...meta, requestId: `r${n}` },
    "client.read",
    {
      type: "client",
      id: `c${n % 1000}`,
      ...(n % Math.round(1 / DISCLOSING) === 0 && { clientId: `c${n % 1000}` }),
    },
    ["name", "phone"],
    { relationship: "assigned", breakGlass: false },
  );

type Put = { table: string; item: Record<string, unknown> };

async function writeAll(puts: Put[]) {
  const batches: Put[][] = [];
  for (let i = 0; i < puts.length; i += BATCH) batches.push(puts.slice(i, i + BATCH));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as Put[];
      let requestItems: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> = {};
      for (const table of new Set(batch.map((put) => put.table))) {
        requestItems[table] = batch
          .filter((put) => put.table === table)
          .map((put) => ({ PutRequest: { Item: put.item } }));
      }
      while (Object.keys(requestItems).length > 0) {
        const out = await aws("dynamo").send(new BatchWriteCommand({ RequestItems: requestItems }));
        requestItems = (out.UnprocessedItems ?? {}) as typeof requestItems;
      }
    }
  };
  await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, worker));
}

/** The org's chains written round by round (a checkpoint after each), as the chain writer would have made them. */
async function fixture() {
  const { TABLE_AUDIT, TABLE_RECORDS, AUDIT_SHARDS } = getConfig();
  const heads = Array.from({ length: AUDIT_SHARDS }, () => ({ seq: 0, hash: GENESIS_HASH }));
  const base = Date.parse("2026-01-01T00:00:00.000Z");
  let written = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const puts: Put[] = [];
    const target = Math.round((ENTRIES * (round + 1)) / ROUNDS);
    for (; written < target; written++) {
      const shard = written % AUDIT_SHARDS;
      const chain = chainId(ORG, shard);
      const head = heads[shard] as { seq: number; hash: string };
      const entry = { ...template(written), time: new Date(base + written * 10).toISOString() };
      const text = canonicalEntry(entry);
      const seq = head.seq + 1;
      const hash = chainHash(head.hash, seq, text);
      const index = indexAttributes(entry, chain, seq);
      puts.push({
        table: TABLE_AUDIT,
        item: { pk: chain, seq, prevHash: head.hash, hash, entry: text, ...index },
      });
      if (entry.resource.clientId)
        puts.push({
          table: TABLE_RECORDS,
          item: { pk: disclosurePartition(ORG, entry.resource.clientId), sk: index.at, chain, seq },
        });
      heads[shard] = { seq, hash };
    }
    await writeAll(puts);
    await writeCheckpoint(ORG);
    console.log(`fixture: ${written} entries, ${round + 1} checkpoints`);
  }
}

/** Peak RSS, and peak live heap: the heap right after a full collection, once a second (run with --expose-gc). */
const collect = () => (globalThis as { gc?: () => void }).gc?.();
function memorySampler() {
  const peak = { rss: 0, liveHeap: 0 };
  const sample = () => {
    collect();
    const { rss, heapUsed } = process.memoryUsage();
    peak.rss = Math.max(peak.rss, rss);
    peak.liveHeap = Math.max(peak.liveHeap, heapUsed);
  };
  sample();
  const timer = setInterval(sample, 1000);
  return { peak, stop: () => clearInterval(timer) };
}

const MB = 1024 * 1024;
// No stream jobs: the live witness would read every one of the fixture's million inserts in this process.
const stack = await startBenchStack({ inMemoryFs: true, streamPollMs: 0 });
try {
  const fixtureStarted = performance.now();
  await fixture();
  const fixtureSeconds = (performance.now() - fixtureStarted) / 1000;

  // Baseline once the fixture's garbage is collected and its memory handed back.
  collect();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  collect();
  const baseline = process.memoryUsage();
  const memory = memorySampler();
  const job = newVerificationJob(ORG, randomUUID(), "genesis", "bench");
  await aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: job }));
  const started = performance.now();
  await startJob("verifyAudit", { orgId: ORG, jobId: job.jobId, from: "genesis" });
  let done = await loadVerificationJob(ORG, job.jobId);
  while (done?.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    done = await loadVerificationJob(ORG, job.jobId);
  }
  const seconds = (performance.now() - started) / 1000;
  memory.stop();
  const report = done?.report;
  const result = {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length },
    entries: ENTRIES,
    disclosing: DISCLOSING,
    checkpoints: report?.checkpoints,
    chains: report?.chains.length,
    page: getConfig().AUDIT_VERIFY_PAGE,
    concurrency: getConfig().AUDIT_VERIFY_CONCURRENCY,
    fixtureSeconds,
    state: done?.state,
    intact: report?.intact,
    verified: report?.entries,
    seconds,
    entriesPerSecond: (report?.entries ?? 0) / seconds,
    runs: (done?.runs ?? 0) + 1,
    memoryMB: {
      baselineRss: baseline.rss / MB,
      peakRss: memory.peak.rss / MB,
      baselineLiveHeap: baseline.heapUsed / MB,
      peakLiveHeap: memory.peak.liveHeap / MB,
    },
    targets: { completes: done?.state === "done" && report?.entries === ENTRIES && report.intact },
  };
  const file = saveResults("verify", result);
  console.log("\nVerification job over DynamoDB Local (one process: stack, job runs and the verifier)");
  console.table([
    {
      entries: result.verified,
      checkpoints: result.checkpoints,
      "fixture s": fixtureSeconds.toFixed(0),
      "verify s": seconds.toFixed(1),
      "entries/s": result.entriesPerSecond.toFixed(0),
      runs: result.runs,
      intact: result.intact,
      "RSS MB (before → peak)": `${result.memoryMB.baselineRss.toFixed(0)} → ${result.memoryMB.peakRss.toFixed(0)}`,
      "live heap MB (before → peak)": `${result.memoryMB.baselineLiveHeap.toFixed(0)} → ${result.memoryMB.peakLiveHeap.toFixed(0)}`,
    },
  ]);
  console.log("Targets", result.targets);
  console.log(`Results written to ${file}`);
} finally {
  await stack.stop();
  rmSync(stack.dir, { recursive: true, force: true });
}
