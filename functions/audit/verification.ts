import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  type Actor,
  appendWithItems,
  auditEntry,
  type OrgVerification,
  type RequestMeta,
  type VerificationProgress,
  type VerifyFrom,
  verificationKey,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { startJob } from "../../shared/jobs";
import { getRecord } from "../../shared/store";
import { STARTED_EVENT_MAX_AGE_HOURS } from "../jobs";

/**
 * A verification job is two items in the records table. The request (`ORG#<org>` / `AUDITVERIFY#<jobId>`)
 * is what was asked, written with its `audit.verify` entry by whoever started it. The job's state
 * (`AUDITVERIFY#<org>` / `<jobId>`) is where it stands (its `progress`, saved after every page) and, when
 * done, its report: only the verification job writes that partition (IAM: its `audit:verification`
 * permission; every other records-table write is denied `AUDITVERIFY#*` keys), so no route or other job
 * can write a report or move a job's progress on. The job creates its state from the request on its first
 * run, taking nothing from it but where to start. A run holds a lease on the state while it works
 * (`runner`, `leaseUntil`): every save is conditional on still holding it, so a duplicate or stale run can
 * never overwrite a newer one's progress.
 */
export type VerificationState = "running" | "done" | "failed";
export type VerificationJob = {
  pk: string;
  sk: string;
  jobId: string;
  orgId: string;
  from: VerifyFrom;
  state: VerificationState;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  /** Runs so far: one per start, one more each time a run hands on to the next. */
  runs: number;
  /** Failed attempts in a row (Lambda retries a failed run twice); the third fails the job. */
  failures: number;
  error?: string;
  runner?: string;
  leaseUntil?: number;
  progress?: VerificationProgress;
  report?: OrgVerification;
};
/** What was asked; `state: "failed"` only when the job could not be started at all. */
export type VerificationRequest = Pick<
  VerificationJob,
  "pk" | "sk" | "jobId" | "orgId" | "from" | "requestedBy" | "createdAt"
> & {
  state?: "failed";
  error?: string;
};

export { VERIFICATION_PARTITION_PATTERN, verificationKey } from "../../shared/audit";
export const verificationRequestKey = (orgId: string, jobId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `AUDITVERIFY#${jobId}`,
});

/** A job with no sign of life for longer than its event may wait in Lambda's queue will never run again. */
const STALE_AFTER_MS = STARTED_EVENT_MAX_AGE_HOURS * 3600_000;
const isStale = (since: string, now = Date.now()) => now - Date.parse(since) > STALE_AFTER_MS;

export function newVerificationJob(orgId: string, jobId: string, from: VerifyFrom, requestedBy: string) {
  const now = new Date().toISOString();
  const job: VerificationJob = {
    ...verificationKey(orgId, jobId),
    jobId,
    orgId,
    from,
    state: "running",
    requestedBy,
    createdAt: now,
    updatedAt: now,
    runs: 0,
    failures: 0,
  };
  return job;
}

/**
 * Records a new verification job of the actor's org and its `audit.verify` entry (one transaction), then
 * starts it. A job that cannot be started is marked failed, never left "running" with nothing to run it.
 */
export async function startVerificationJob(actor: Actor, meta: RequestMeta, from: VerifyFrom) {
  const requestedBy = "service" in actor ? actor.service : actor.userId;
  const job = newVerificationJob(actor.orgId, randomUUID(), from, requestedBy);
  const request: VerificationRequest = {
    ...verificationRequestKey(job.orgId, job.jobId),
    jobId: job.jobId,
    orgId: job.orgId,
    from,
    requestedBy,
    createdAt: job.createdAt,
  };
  await appendWithItems(
    auditEntry(actor, meta, "audit.verify", { type: "audit-verification", id: job.jobId }, []),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: request,
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
    ],
  );
  try {
    await startJob("verifyAudit", { orgId: job.orgId, jobId: job.jobId, from });
  } catch (error) {
    const failed: VerificationRequest = { ...request, state: "failed", error: "NOT_STARTED" };
    await aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: failed }));
    throw error;
  }
  return job;
}

/** A job's state, as only the verification job writes it (absent until its first run). */
export const loadVerificationJob = (orgId: string, jobId: string) =>
  getRecord<VerificationJob>(verificationKey(orgId, jobId));

export const loadVerificationRequest = (orgId: string, jobId: string) =>
  getRecord<VerificationRequest>(verificationRequestKey(orgId, jobId));

/**
 * A job as its status shows it: its state once its first run created it; before that, only that it was
 * asked for and is about to run (or could not be started). Nothing of a request but that is believed.
 */
export async function currentVerification(
  orgId: string,
  jobId: string,
): Promise<VerificationJob | undefined> {
  const job = await loadVerificationJob(orgId, jobId);
  if (job) return job.state === "running" && isStale(job.updatedAt) ? notRun(job) : job;
  const request = await loadVerificationRequest(orgId, jobId);
  if (!request) return undefined;
  const pending = newVerificationJob(orgId, jobId, request.from, request.requestedBy);
  if (request.state === "failed")
    return { ...pending, createdAt: request.createdAt, state: "failed", error: "NOT_STARTED" };
  const asked = { ...pending, createdAt: request.createdAt, updatedAt: request.createdAt };
  return isStale(request.createdAt) ? notRun(asked) : asked;
}

/** A job whose event aged out of Lambda's queue (every slot busy for hours) or never came back: failed. */
const notRun = (job: VerificationJob): VerificationJob => ({ ...job, state: "failed", error: "NOT_RUN" });

/** Thrown when a save finds the lease taken by another run: this run stops, the other one carries on. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

/**
 * Saves the job as `runner`: its first state, if there is none yet (`create`); only while no other live
 * run holds it (`take`); or only while this run still does (`save`). Returns false (create, take) or
 * throws LeaseLostError (save) when another run was first or has it.
 */
export async function saveVerificationJob(
  job: VerificationJob,
  runner: string,
  mode: "create" | "take" | "save",
): Promise<boolean> {
  const condition = {
    create: "attribute_not_exists(pk)",
    take: "#state = :running AND (attribute_not_exists(runner) OR runner = :me OR leaseUntil < :now)",
    save: "#state = :running AND runner = :me",
  }[mode];
  try {
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_RECORDS,
        Item: { ...job, updatedAt: new Date().toISOString() },
        ConditionExpression: condition,
        ...(mode !== "create" && {
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":running": "running",
            ":me": runner,
            ...(mode === "take" && { ":now": Date.now() }),
          },
        }),
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    if (mode !== "save") return false;
    throw new LeaseLostError();
  }
}

/** What the status route shows of a job: its progress figures and, when done, the report. */
export function verificationStatus(job: VerificationJob) {
  const chains = job.report?.chains ?? job.progress?.chains ?? [];
  return {
    jobId: job.jobId,
    state: job.state,
    from: job.from,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.finishedAt && { finishedAt: job.finishedAt }),
    progress: {
      runs: job.runs,
      chains: chains.length,
      chainsDone: job.report ? chains.length : (job.progress?.chains.filter((c) => c.ended).length ?? 0),
      entriesVerified: chains.reduce((total, chain) => total + chain.entries, 0),
      checkpointsVerified: job.report?.checkpoints ?? job.progress?.checkpoints ?? 0,
    },
    ...(job.report && { report: job.report }),
    ...(job.error && { error: { code: job.error } }),
  };
}
