import "./quiet-logs";
import { cpus } from "node:os";
import { DeleteCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { auditEntry, ChainWriter, chainHash, readOrgChains, type StoredEntry } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { logger } from "../../shared/log";
import { saveResults } from "./results";
import { startBenchStack } from "./stack";

/**
 * `npm run bench:witness`: tamper-detection latency of the live witness, from an alteration of the audit
 * table (an UpdateItem, an overwriting PutItem, a DeleteItem, or an append whose link is wrong, made
 * straight on the table) to the security event in the log, over BENCH_WITNESS_ALTERATIONS alterations
 * (default 50) for each local stream poll interval in BENCH_WITNESS_POLL_MS (comma-separated, default
 * 1000). Each alteration waits a random fraction of the interval first, so they land across the poll
 * cycle. The stack (and so the witness) runs in this process. Results: test/bench/results/witness.json.
 * Goal: p99 ≤ 10 s (the checkpoint interval, about 5 minutes, before the witness).
 */
const ALTERATIONS = Number(process.env.BENCH_WITNESS_ALTERATIONS ?? 50);
const INTERVALS = (process.env.BENCH_WITNESS_POLL_MS ?? "1000").split(",").map(Number);
const GOAL_P99_MS = 10_000;
const KINDS = ["update", "overwrite", "delete", "bad-append"] as const;

/** Security events as this process logs them (the witness runs here): resolved by chain and sequence when logged. */
const waiting = new Map<string, (at: number) => void>();
const warn = logger.warn.bind(logger);
logger.warn = ((message: string, ...extra: { securityEvent?: string; chain?: string; seq?: number }[]) => {
  const event = extra[0];
  if (!event?.securityEvent) return warn(message, ...extra);
  waiting.get(`${event.chain}|${event.seq}`)?.(performance.now());
}) as typeof logger.warn;

function detected(chain: string, seq: number, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no security event for ${chain} #${seq}`)), timeoutMs);
    waiting.set(`${chain}|${seq}`, (at) => {
      clearTimeout(timer);
      waiting.delete(`${chain}|${seq}`);
      resolve(at);
    });
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(intervalMs: number) {
  const stack = await startBenchStack({ streamPollMs: intervalMs });
  try {
    const orgId = `bench-witness-${intervalMs}`;
    const writer = new ChainWriter();
    const principal = { userId: "bench-user", orgId, role: "coach" as const };
    for (let i = 0; i < ALTERATIONS + 10; i++) {
      await writer.append(
        auditEntry(
          principal,
          { requestId: `r${i}`, sourceIp: "127.0.0.1", userAgent: "bench" },
          "client.read",
          {
            type: "client",
            id: `c${i}`,
          },
          [],
        ),
      );
    }
    const chain = (await readOrgChains(orgId)).find((entries) => entries.length > 0) as StoredEntry[];
    await sleep(3 * intervalMs + 1000); // the witness has read the honest appends
    const TableName = getConfig().TABLE_AUDIT;
    let head = chain.at(-1) as StoredEntry;
    const samples: { kind: (typeof KINDS)[number]; ms: number }[] = [];
    for (let i = 0; i < ALTERATIONS; i++) {
      const kind = KINDS[i % KINDS.length] as (typeof KINDS)[number];
      const victim = chain[i] as StoredEntry;
      await sleep(Math.random() * intervalMs);
      let target = { pk: victim.pk, seq: victim.seq };
      let alteration: () => Promise<unknown>;
      if (kind === "update") {
        alteration = () =>
          aws("dynamo").send(
            new UpdateCommand({
              TableName,
              Key: target,
              UpdateExpression: "SET #a = :a",
              ExpressionAttributeNames: { "#a": "action" },
              ExpressionAttributeValues: { ":a": "client.list" },
            }),
          );
      } else if (kind === "overwrite") {
        alteration = () =>
          aws("dynamo").send(new PutCommand({ TableName, Item: { ...victim, entry: `${victim.entry} ` } }));
      } else if (kind === "delete") {
        alteration = () => aws("dynamo").send(new DeleteCommand({ TableName, Key: target }));
      } else {
        const seq = head.seq + 1;
        const prevHash = "f".repeat(64);
        const forged = { ...head, seq, prevHash, hash: chainHash(prevHash, seq, head.entry) };
        target = { pk: forged.pk, seq };
        head = forged;
        alteration = () => aws("dynamo").send(new PutCommand({ TableName, Item: forged }));
      }
      const seen = detected(target.pk, target.seq);
      const started = performance.now();
      await alteration();
      samples.push({ kind, ms: (await seen) - started });
    }
    const sorted = samples.map((sample) => sample.ms).sort((a, b) => a - b);
    return {
      pollIntervalMs: intervalMs,
      alterations: samples.length,
      byKind: Object.fromEntries(KINDS.map((kind) => [kind, samples.filter((s) => s.kind === kind).length])),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) as number,
      meanMs: sorted.reduce((total, ms) => total + ms, 0) / sorted.length,
    };
  } finally {
    await stack.stop();
  }
}

const rows = [];
for (const interval of INTERVALS) rows.push(await measure(interval));
const report = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length },
  rows,
  targets: { p99AtMost10s: rows.every((row) => row.p99Ms <= GOAL_P99_MS) },
};
const file = saveResults("witness", report);
console.log("\nLive witness: alteration of the audit table → security event (local stack, stream polled)");
console.table(
  rows.map((row) => ({
    "poll ms": row.pollIntervalMs,
    alterations: row.alterations,
    "p50 ms": row.p50Ms.toFixed(0),
    "p99 ms": row.p99Ms.toFixed(0),
    "max ms": row.maxMs.toFixed(0),
    "mean ms": row.meanMs.toFixed(0),
  })),
);
console.log("Targets", report.targets);
console.log(`Results written to ${file}`);
