import "./quiet-logs";
import { randomUUID } from "node:crypto";
import { cpus } from "node:os";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import {
  type AuditEntry,
  auditEntry,
  ChainWriter,
  canonicalEntry,
  chainHash,
  GENESIS_HASH,
  type StoredEntry,
  verifyChain,
  verifyOrg,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig, resetConfig } from "../../shared/config";
import { saveResults } from "./results";
import { startBenchStack } from "./stack";

/**
 * `npm run bench:audit`: appends per second to one org at 1, 8 and 32 concurrent writers, with one chain
 * and with the default shard count, against the same writers doing plain transactional puts of the same
 * items (no head read, no sequence condition); forks and gaps found afterwards by the verifier; and
 * verification speed in entries per second. Results: test/bench/results/audit.json.
 * Targets: at 32 writers with the default shards, chained appends reach half the plain puts' rate;
 * verification runs at 200,000 entries per second or more.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WRITERS = [1, 8, 32];
const REPEATS = 3;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const VERIFY_ENTRIES = 300_000;

const meta = { requestId: "bench", sourceIp: "127.0.0.1", userAgent: "bench" };
const entryFor = (orgId: string): AuditEntry =>
  auditEntry(
    { userId: "bench-coach", orgId, role: "coach" },
    meta,
    "client.read",
    { type: "client", id: "c", clientId: randomUUID() },
    ["name", "phone"],
    { relationship: "assigned", breakGlass: false },
  );

/** `writers` concurrent loops, each with its own operation (as each Lambda instance has its own state). */
async function forSeconds(writers: number, newWriter: () => () => Promise<unknown>) {
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const operation = newWriter();
      while (performance.now() < deadline) {
        try {
          await operation();
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { done, failed, perSecond: done / seconds };
}

/** The items a chained append writes (entry + disclosure pointer), written plainly: unique keys, no conditions. */
function plainPut(orgId: string) {
  const { TABLE_AUDIT, TABLE_RECORDS } = getConfig();
  const entry = entryFor(orgId);
  const text = canonicalEntry(entry);
  const key = randomUUID();
  return aws("dynamo").send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: TABLE_AUDIT,
            Item: {
              pk: `PLAIN#${orgId}#${key}`,
              seq: 1,
              prevHash: GENESIS_HASH,
              hash: key,
              entry: text,
              time: entry.time,
            },
          },
        },
        {
          Put: {
            TableName: TABLE_RECORDS,
            Item: { pk: `PLAIN#${orgId}#${key}`, sk: entry.time, chain: key, seq: 1 },
          },
        },
      ],
    }),
  );
}

function useShards(shards: number) {
  process.env.AUDIT_SHARDS = String(shards);
  resetConfig();
}

/** A chain of `count` entries built in memory, as the verifier reads them. */
function syntheticChain(count: number): StoredEntry[] {
  const entries: StoredEntry[] = [];
  let previous = GENESIS_HASH;
  const template = entryFor("verify-bench");
  for (let seq = 1; seq <= count; seq++) {
    // Entries read from the store arrive as flat strings; canonicalize builds rope strings, which
    // hash several times slower, so the text is flattened as a read would deliver it.
    const text = Buffer.from(canonicalEntry({ ...template, requestId: `r${seq}` })).toString();
    const hash = chainHash(previous, seq, text);
    entries.push({ pk: "ORG#verify-bench#SHARD#0", seq, prevHash: previous, hash, entry: text });
    previous = hash;
  }
  return entries;
}

const stack = await startBenchStack();
try {
  const defaultShards = getConfig().AUDIT_SHARDS;
  const rows = [];
  for (const shards of [1, defaultShards]) {
    for (const writers of WRITERS) {
      useShards(shards);
      const orgId = `bench-s${shards}-w${writers}`;
      // Chained and plain runs alternate, REPEATS times each, and the medians are compared: on a shared
      // 2-core machine one run alone can be off by half.
      const chainedRuns = [];
      const plainRuns = [];
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        chainedRuns.push(
          await forSeconds(writers, () => {
            const writer = new ChainWriter();
            return () => writer.append(entryFor(orgId));
          }),
        );
        plainRuns.push(await forSeconds(writers, () => () => plainPut(orgId)));
      }
      const chained = {
        perSecond: median(chainedRuns.map((run) => run.perSecond)),
        done: chainedRuns.reduce((total, run) => total + run.done, 0),
        failed: chainedRuns.reduce((total, run) => total + run.failed, 0),
      };
      const plain = { perSecond: median(plainRuns.map((run) => run.perSecond)) };
      const verified = await verifyOrg(orgId, "genesis");
      rows.push({
        shards,
        writers,
        chainedPerSecond: chained.perSecond,
        plainPerSecond: plain.perSecond,
        ratio: chained.perSecond / plain.perSecond,
        appended: chained.done,
        gaveUp: chained.failed,
        stored: verified.entries,
        // A fork would be two entries claiming one sequence number; a gap, a missing one. The verifier
        // finds both (a fork cannot even be stored: each sequence number is one conditional key).
        forksOrGaps: (verified.entryProblem ? 1 : 0) + Math.abs(verified.entries - chained.done),
      });
    }
  }
  useShards(defaultShards);

  const chain = syntheticChain(VERIFY_ENTRIES);
  verifyChain(chain.slice(0, 10_000)); // warm up
  const started = performance.now();
  const problem = verifyChain(chain);
  const verifySeconds = (performance.now() - started) / 1000;
  const largest = rows.at(-1) as (typeof rows)[number];
  const readStarted = performance.now();
  const fromStore = await verifyOrg(`bench-s${defaultShards}-w32`, "genesis");
  const readSeconds = (performance.now() - readStarted) / 1000;

  const verification = {
    entries: VERIFY_ENTRIES,
    intact: !problem,
    entriesPerSecond: VERIFY_ENTRIES / verifySeconds,
    includingDynamoDbLocalReads: {
      entries: fromStore.entries,
      entriesPerSecond: fromStore.entries / readSeconds,
    },
  };
  const report = {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length },
    secondsPerRun: SECONDS,
    repeats: REPEATS,
    appends: rows,
    verification,
    targets: {
      ratioAtLeastHalfWithDefaultShardsAt32Writers: largest.ratio >= 0.5,
      noForksOrGaps: rows.every((row) => row.forksOrGaps === 0),
      verifyAtLeast200kPerSecond: verification.entriesPerSecond >= 200_000,
    },
  };
  const resultsFile = saveResults("audit", report);

  console.log("\nAudit appends to one org (DynamoDB Local), chained vs plain transactional puts");
  console.table(
    rows.map((row) => ({
      shards: row.shards,
      writers: row.writers,
      "chained/s": row.chainedPerSecond.toFixed(0),
      "plain/s": row.plainPerSecond.toFixed(0),
      ratio: row.ratio.toFixed(2),
      appended: row.appended,
      "gave up": row.gaveUp,
      "forks+gaps": row.forksOrGaps,
    })),
  );
  console.log("Verification");
  console.table([
    {
      what: "in memory (sequence, link and hash of every entry)",
      entries: VERIFY_ENTRIES,
      "entries/s": verification.entriesPerSecond.toFixed(0),
    },
    {
      what: "from DynamoDB Local (reads included)",
      entries: fromStore.entries,
      "entries/s": verification.includingDynamoDbLocalReads.entriesPerSecond.toFixed(0),
    },
  ]);
  console.log("Targets", report.targets);
  console.log(`Results written to ${resultsFile}`);
} finally {
  await stack.stop();
}
