import {
  advanceVerification,
  beginVerification,
  type VerificationProgress,
  verificationReport,
} from "../../shared/audit";
import { AppError } from "../../shared/errors";
import { createJob, type JobInvocation, startJob } from "../../shared/jobs";
import { logger } from "../../shared/log";
import {
  LeaseLostError,
  loadVerificationJob,
  saveVerificationJob,
  type VerificationJob,
} from "./verification";

/**
 * The verification job (`GET /audit/verify` starts it; `GET /audit/verify/{jobId}` shows it): verifies an
 * org's audit trail a page at a time (`shared/audit/verifier.ts`), saving its progress on the job's record
 * after every page. When its time runs low it stops, hands on and starts itself again to resume; a run
 * that crashes is resumed from the last save by Lambda's retry of the same event.
 */
export type VerifyAuditEvent = { orgId: string; jobId: string };

/** A run stops with this much time left: enough to finish the page in hand, save and start the next run. */
export const STOP_WITH_MS_LEFT = 30_000;
/** Failed attempts in a row that fail the job (a start and Lambda's two retries). */
const MAX_FAILURES = 3;

type Outcome = "done" | "handed-on" | "failed" | "not-running" | "busy";

/** Saves after every page without queueing more than one write behind the one in flight (each writes the latest state). */
function coalescing(write: () => Promise<void>) {
  let queued: Promise<void> | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  return () => {
    queued ??= inFlight.then(() => {
      queued = undefined;
      return write();
    });
    inFlight = queued;
    return queued;
  };
}

/** The record without this run's lease: the next run (or Lambda's retry of this one) may take it at once. */
function released(job: VerificationJob): VerificationJob {
  const { runner: _, leaseUntil: __, ...rest } = job;
  return rest;
}

export async function run(event: VerifyAuditEvent, job: JobInvocation): Promise<{ outcome: Outcome }> {
  const record = await loadVerificationJob(event.orgId, event.jobId);
  if (record?.state !== "running") return { outcome: "not-running" };
  const runner = job.meta.requestId;
  let current: VerificationJob = { ...record, runner, leaseUntil: Date.now() + job.remainingMs() };
  if (!(await saveVerificationJob(current, runner, "take"))) {
    // Another run holds the job (a duplicate delivery): it carries on, and its lease ends with its time.
    logger.info("audit verification already running", { jobId: event.jobId });
    return { outcome: "busy" };
  }
  const save = (next: VerificationJob) => {
    current = next;
    return saveVerificationJob(current, runner, "save");
  };
  try {
    const progress: VerificationProgress =
      record.progress ?? (await beginVerification(event.orgId, record.from));
    const saveProgress = coalescing(() => save({ ...current, progress, failures: 0 }).then(() => undefined));
    await saveProgress();
    await advanceVerification(progress, {
      shouldStop: () => job.remainingMs() < STOP_WITH_MS_LEFT,
      onProgress: saveProgress,
    });
    if (progress.done) {
      const { progress: _, ...finished } = released(current);
      const report = verificationReport(progress);
      await save({ ...finished, state: "done", report, finishedAt: new Date().toISOString() });
      logger.info("audit verification done", {
        jobId: event.jobId,
        runs: current.runs + 1,
        intact: report.intact,
      });
      return { outcome: "done" };
    }
    // Hand on: release the lease with the progress saved, then start the next run to resume from it.
    await save({ ...released(current), progress, runs: current.runs + 1 });
    await startJob("verifyAudit", { ...event });
    return { outcome: "handed-on" };
  } catch (error) {
    if (error instanceof LeaseLostError) return { outcome: "busy" };
    const failures = current.failures + 1;
    // A start from a checkpoint that does not exist will not get better on a retry.
    const final = failures >= MAX_FAILURES || (error instanceof AppError && error.kind === "not_found");
    const code = error instanceof AppError ? error.code : "VERIFICATION_FAILED";
    await save({
      ...released(current),
      failures,
      ...(final && { state: "failed" as const, error: code, finishedAt: new Date().toISOString() }),
    }).catch(() => undefined);
    if (final) {
      logger.warn("audit verification failed", { jobId: event.jobId, code });
      return { outcome: "failed" };
    }
    throw error;
  }
}

export const handler = createJob("verifyAudit", run);
