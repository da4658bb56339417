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
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { startJob } from "../../shared/jobs";
import { getRecord } from "../../shared/store";

/**
 * A verification job's record in the records table (`ORG#<org>` / `AUDITVERIFY#<jobId>`): what was asked,
 * where the job stands (its `progress`, saved after every page), and when done its report. A run holds a
 * lease on the record while it works (`runner`, `leaseUntil`): every save is conditional on still holding
 * it, so a duplicate or stale run can never overwrite a newer one's progress.
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

export const verificationKey = (orgId: string, jobId: string) => ({
  pk: `ORG#${orgId}`,
  sk: `AUDITVERIFY#${jobId}`,
});

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
  await appendWithItems(
    auditEntry(actor, meta, "audit.verify", { type: "audit-verification", id: job.jobId }, []),
    [
      {
        item: {
          Put: {
            TableName: getConfig().TABLE_RECORDS,
            Item: job,
            ConditionExpression: "attribute_not_exists(pk)",
          },
        },
      },
    ],
  );
  try {
    await startJob("verifyAudit", { orgId: job.orgId, jobId: job.jobId });
  } catch (error) {
    const failed = {
      ...job,
      state: "failed" as const,
      error: "NOT_STARTED",
      finishedAt: new Date().toISOString(),
    };
    await aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: failed }));
    throw error;
  }
  return job;
}

export const loadVerificationJob = (orgId: string, jobId: string) =>
  getRecord<VerificationJob>(verificationKey(orgId, jobId));

/** Thrown when a save finds the lease taken by another run: this run stops, the other one carries on. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

/**
 * Saves the job as `runner`: only while no other live run holds it (`take`), or only while this run
 * still does. Returns false (take) or throws LeaseLostError (save) when another run has it.
 */
export async function saveVerificationJob(
  job: VerificationJob,
  runner: string,
  mode: "take" | "save",
): Promise<boolean> {
  const condition =
    mode === "take"
      ? "#state = :running AND (attribute_not_exists(runner) OR runner = :me OR leaseUntil < :now)"
      : "#state = :running AND runner = :me";
  try {
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_RECORDS,
        Item: { ...job, updatedAt: new Date().toISOString() },
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: {
          ":running": "running",
          ":me": runner,
          ...(mode === "take" && { ":now": Date.now() }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    if (mode === "take") return false;
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
