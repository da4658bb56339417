import { randomUUID } from "node:crypto";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { loadVerificationJob, startVerificationJob } from "../../functions/audit/verification";
import { GRANT_RECORD_PREFIX, type GrantReviewRecord } from "../../shared/access";
import {
  type AppendedEntry,
  type AuditEntry,
  auditEntry,
  ChainWriter,
  jobMeta,
  witnessedChains,
  writeCheckpoint,
} from "../../shared/audit";
import { chainHead, chainId } from "../../shared/audit/chain";
import { aws } from "../../shared/aws";
import { CHECKS, type CheckDefinition, generateReport, reportActivity } from "../../shared/compliance";
import { DAILY_VERIFICATION_SERVICE } from "../../shared/compliance/checks/audit";
import { getConfig } from "../../shared/config";
import { baselineSetKey, DynamoState, detectorPartition, localTime, member } from "../../shared/detection";
import { tenantSettings } from "../../shared/settings";

/**
 * Compliance-report fixtures on the local stack: the bad states a report must see (an audit chain broken
 * after the latest checkpoint, a break-glass grant left unreviewed past its window) and the good ones
 * (PHI accesses the witness and the detectors saw, a grant reviewed in time by someone else, a passing
 * daily verification), and a report generated with every check (`CHECKS`). Each takes the org, so a test
 * can combine them on any org.
 */
const meta = (requestId = randomUUID()) => ({ requestId, sourceIp: "127.0.0.1", userAgent: "vitest" });
const HOUR_MS = 3_600_000;

/** PHI reads by a coach on its assigned clients, appended to one chain of the org (one writer stays on one shard). */
export async function phiReads(orgId: string, clientIds: readonly string[], userId = "coach-1") {
  const writer = new ChainWriter();
  const principal = { userId, orgId, role: "coach" as const };
  const reads: (AppendedEntry & { clientId: string; time: string })[] = [];
  for (const clientId of clientIds) {
    const entry = auditEntry(
      principal,
      meta(),
      "client.read",
      { type: "client", id: clientId, clientId },
      ["name"],
      {
        relationship: "assigned",
        breakGlass: false,
      },
    );
    reads.push({ ...(await writer.append(entry)), clientId, time: entry.time });
  }
  return reads;
}

/**
 * Breaks the org's audit trail the way an insider with table access would: appends three entries and
 * rewrites the text of the first (its stored hash no longer matches). Done after the latest checkpoint,
 * so a verification from it reads the altered entry. (A checkpoint written afterwards pins the head
 * above it: then only the daily verification from genesis reads it again.) Its entries are first seen
 * by the live witness and the detectors, so the break is the only thing wrong.
 */
export async function breakAuditChain(orgId: string): Promise<AppendedEntry> {
  const reads = await phiReads(orgId, [randomUUID(), randomUUID(), randomUUID()], "tamper-coach");
  const victim = reads[0] as AppendedEntry;
  // Seen by the witness and the detectors first, as they would be long before anyone tampers.
  await witnessed(reads);
  await detected(orgId, "tamper-coach", reads);
  const TableName = getConfig().TABLE_AUDIT;
  const out = await aws("dynamo").send(
    new GetCommand({ TableName, Key: { pk: victim.chain, seq: victim.seq }, ConsistentRead: true }),
  );
  const item = out.Item as Record<string, unknown>;
  const altered = String(item.entry).replace('"client.read"', '"client.list"');
  await aws("dynamo").send(new PutCommand({ TableName, Item: { ...item, entry: altered } }));
  return { chain: victim.chain, seq: victim.seq, hash: victim.hash };
}

async function putGrant(orgId: string, record: GrantReviewRecord) {
  await aws("dynamo").send(
    new PutCommand({
      TableName: getConfig().TABLE_RECORDS,
      Item: { pk: `ORG#${orgId}`, sk: `${GRANT_RECORD_PREFIX}${record.grantId}`, ...record },
    }),
  );
}

/** A grant whose review window (the org's `detectors.breakGlassReviewHours`) ended `hoursPastDue` before `now`. */
async function grantPastItsWindow(
  orgId: string,
  now: Date,
  hoursPastDue: number,
  review?: { reviewedBy: string },
) {
  const hours = (await tenantSettings(orgId)).detectors.breakGlassReviewHours;
  const grantedAt = new Date(now.getTime() - (hours + hoursPastDue) * HOUR_MS);
  const grantId = randomUUID();
  await putGrant(orgId, {
    grantId,
    clientId: randomUUID(),
    userId: "grantee-1",
    grantedAt: grantedAt.toISOString(),
    expiresAt: new Date(grantedAt.getTime() + HOUR_MS).toISOString(),
    ...(review
      ? {
          status: "reviewed",
          reviewedBy: review.reviewedBy,
          reviewedAt: new Date(grantedAt.getTime() + HOUR_MS).toISOString(),
        }
      : { status: "pending" }),
  });
  return grantId;
}

/** A break-glass grant still pending `hoursPastDue` after its review window ended, as the request route records it. */
export const leaveGrantUnreviewed = (orgId: string, now = new Date(), hoursPastDue = 1) =>
  grantPastItsWindow(orgId, now, hoursPastDue);

/** A grant whose window ended before `now`, reviewed an hour after it was made by another person. */
export const grantReviewedInTime = (orgId: string, now = new Date(), reviewedBy = "officer-1") =>
  grantPastItsWindow(orgId, now, 1, { reviewedBy });

/** The daily verification from genesis of one org (as its job starts it), waited for until it finishes. */
export async function runDailyVerification(orgId: string) {
  const job = await startVerificationJob(
    { service: DAILY_VERIFICATION_SERVICE, orgId },
    jobMeta(randomUUID(), DAILY_VERIFICATION_SERVICE),
    "genesis",
  );
  for (let attempt = 0; attempt < 600; attempt++) {
    const state = await loadVerificationJob(orgId, job.jobId);
    if (state && state.state !== "running") return state;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the daily verification did not finish");
}

/**
 * The stream consumers (witness, detectors) work through every entry the whole run has written, one batch at
 * a time: late in a full run they can be a minute or more behind (the product allows the detectors 15
 * minutes: a report's clock is set past that bound), so this waits up to two minutes.
 */
const CONSUMER_WAIT_MS = 120_000;
const until = async (what: string, holds: () => Promise<boolean>) => {
  const deadline = Date.now() + CONSUMER_WAIT_MS;
  while (Date.now() < deadline) {
    if (await holds()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** Waits until the live witness has recorded these entries as its chains' heads (the stream poller runs it). */
export const witnessed = (entries: readonly AppendedEntry[]) =>
  until("the witness", async () => {
    const records = await witnessedChains([...new Set(entries.map((entry) => entry.chain))]);
    return entries.every((entry) =>
      records.some((record) => record.chain === entry.chain && (record.seq ?? 0) >= entry.seq),
    );
  });

/** Waits until the witness has recorded every chain of the org up to its head. */
export const witnessCaughtUp = (orgId: string) =>
  until("the witness to catch up", async () => {
    const chains = Array.from({ length: getConfig().AUDIT_SHARDS }, (_, shard) => chainId(orgId, shard));
    const [records, heads] = await Promise.all([witnessedChains(chains), Promise.all(chains.map(chainHead))]);
    return heads.every(
      (head, index) => head.seq <= (records.find((record) => record.chain === chains[index])?.seq ?? 0),
    );
  });

/** Waits until the detectors counted a coach's PHI reads (the `excessive_access_lists` day set). */
export async function detected(
  orgId: string,
  userId: string,
  reads: readonly { clientId: string; time: string }[],
) {
  const zone = (await tenantSettings(orgId)).businessHours.timeZone;
  const state = new DynamoState();
  await until("the detectors", async () => {
    for (const read of reads) {
      const at = Date.parse(read.time);
      const members = await state.members({
        partition: detectorPartition(orgId),
        key: baselineSetKey("excessive_access_lists", localTime(at, zone).day, userId),
      });
      if (!members.has(member(at, read.clientId))) return false;
    }
    return true;
  });
}

/**
 * Puts an org's audit trail and monitoring in good order for a report: PHI reads on assigned clients (seen
 * by the witness and the detectors), a signed checkpoint over the first ones, a grant reviewed in time by
 * someone else, and (unless `daily: false`) a passing daily verification from genesis. Returns the report
 * clock to use: 16 minutes ahead, so every read is past the detectors' lag bound, and the reads.
 */
export async function putInGoodOrder(orgId: string, options: { daily?: boolean } = {}) {
  const before = await phiReads(orgId, [randomUUID(), randomUUID(), randomUUID()]);
  await witnessed(before);
  await writeCheckpoint(orgId);
  const after = await phiReads(orgId, [randomUUID(), randomUUID()]);
  await witnessed(after);
  await detected(orgId, "coach-1", [...before, ...after]);
  const now = new Date(Date.now() + 16 * 60_000);
  await grantReviewedInTime(orgId, now);
  if (options.daily !== false) {
    const daily = await runDailyVerification(orgId);
    if (!daily.report?.intact) throw new Error("the org's audit trail does not verify from genesis");
  }
  // The daily run's own entry too: the report's clock is past the witness's lag bound for all of them.
  await witnessCaughtUp(orgId);
  return { orgId, now, before, after };
}

/** Appends an entry of the org and waits until the witness and (for a PHI access) the detectors saw it. */
export async function appendAndWait(orgId: string, entry: AuditEntry) {
  const appended = await new ChainWriter().append(entry);
  await witnessed([appended]);
  if (entry.fields.length > 0 && entry.resource.clientId)
    await detected(orgId, entry.actor.id, [{ clientId: entry.resource.clientId, time: entry.time }]);
  return appended;
}

/**
 * A report of the org at `now`, with every check (or those given): over the last day, or after a previous
 * report (its period's end, its carry).
 */
export async function reportFor(
  orgId: string,
  now = new Date(),
  options: { checks?: readonly CheckDefinition[]; previous?: Report } = {},
) {
  const from = new Date(now.getTime() - 24 * HOUR_MS);
  const previous = options.previous;
  const { body, carry } = await generateReport({
    reportId: randomUUID(),
    orgId,
    now,
    history: [],
    checks: options.checks ?? CHECKS,
    activity: reportActivity,
    defaultFrom: () => from,
    ...(previous && {
      previous: {
        reportId: previous.body.reportId,
        generatedAt: previous.body.generatedAt,
        score: previous.body.score.value,
        statuses: Object.fromEntries(previous.body.checks.map((check) => [check.id, check.status])),
        carry: previous.carry,
        periodTo: previous.body.period.to,
      },
    }),
  });
  return { body, carry, status: (id: string) => body.checks.find((check) => check.id === id) };
}
type Report = Awaited<ReturnType<typeof reportFor>>;
