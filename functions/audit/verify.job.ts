import {
  advanceVerification,
  beginVerification,
  type OrgVerification,
  type VerificationProgress,
  type VerifyFrom,
  verificationReport,
} from "../../shared/audit";
import { AppError } from "../../shared/errors";
import { createJob, type JobInvocation, startJob } from "../../shared/jobs";
import { logger } from "../../shared/log";
import {
  LeaseLostError,
  loadVerificationJob,
  loadVerificationRequest,
  newVerificationJob,
  saveVerificationJob,
  type VerificationJob,
} from "./verification";

/**
 * The verification job (`GET /audit/verify` starts it; `GET /audit/verify/{jobId}` shows it): verifies an
 * org's audit trail a page at a time (`shared/audit/verifier.ts`), saving its progress on the job's record
 * after every page. When its time runs low it stops, hands on and starts itself again to resume; a run
 * that crashes is resumed from the last save by Lambda's retry of the same event.
 */
export type VerifyAuditEvent = { orgId: string; jobId: string; from: VerifyFrom };

/**
 * Security events: a finished verification found the trail not intact, a job could not finish, or its
 * request was changed or removed after it was made.
 */
export const AUDIT_NOT_INTACT = "AUDIT_NOT_INTACT";
export const AUDIT_VERIFICATION_FAILED = "AUDIT_VERIFICATION_FAILED";
export const AUDIT_VERIFICATION_REQUEST_CHANGED = "AUDIT_VERIFICATION_REQUEST_CHANGED";

/** Where a report first found the trail wrong (ids and positions only), for the security event. */
function firstProblem(report: OrgVerification) {
  const { entryProblem, checkpointProblem, indexProblem } = report;
  return {
    ...(entryProblem && { entryProblem }),
    ...(checkpointProblem && { checkpointProblem }),
    ...(indexProblem && { indexProblem }),
  };
}

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

/**
 * The job's state, created on its first run. Where to start comes from the event, which only the
 * functions allowed to start this job can send: the request item sits in the records table, which many
 * functions write, so a changed `from` there (a checkpoint that does not exist, or "latest" for a daily
 * genesis run) must not steer the job. A request that no longer says what the event says is a security
 * event; the job runs as the event asks.
 */
async function stateOf(event: VerifyAuditEvent, runner: string): Promise<VerificationJob | undefined> {
  const state = await loadVerificationJob(event.orgId, event.jobId);
  if (state) return state;
  const request = await loadVerificationRequest(event.orgId, event.jobId);
  if (request?.state === "failed") return undefined;
  if (request?.from !== event.from)
    logger.warn("audit verification request changed", {
      securityEvent: AUDIT_VERIFICATION_REQUEST_CHANGED,
      orgId: event.orgId,
      jobId: event.jobId,
      requestFound: Boolean(request),
    });
  const created = newVerificationJob(event.orgId, event.jobId, event.from, request?.requestedBy ?? "unknown");
  if (await saveVerificationJob(created, runner, "create")) return created;
  return loadVerificationJob(event.orgId, event.jobId); // another run created it first
}

export async function run(event: VerifyAuditEvent, job: JobInvocation): Promise<{ outcome: Outcome }> {
  const runner = job.meta.requestId;
  const record = await stateOf(event, runner);
  if (record?.state !== "running") return { outcome: "not-running" };
  let current: VerificationJob = { ...record, runner, leaseUntil: Date.now() + job.remainingMs() };
  if (!(await saveVerificationJob(current, runner, "take"))) {
    // Another run holds the job (a duplicate delivery): it carries on, and its lease ends with its time.
    logger.info("audit verification already running", { jobId: event.jobId });
    return { outcome: "busy" };
  }
  let failed = false;
  const save = (next: VerificationJob) => {
    current = next;
    return saveVerificationJob(current, runner, "save");
  };
  try {
    const progress: VerificationProgress =
      record.progress ?? (await beginVerification(event.orgId, record.from));
    // Failed attempts count in a row until a run gets a page further: only then do they start again from
    // zero, so a failure that recurs before any progress (a poison item, a key the job cannot read) fails
    // the job on its third attempt instead of leaving it "running" after Lambda's last retry.
    let progressed = false;
    const saveProgress = coalescing(async () => {
      // Once the run has failed, a chain worker still finishing its page must not save over the failure.
      if (failed) return;
      await save({ ...current, progress, ...(progressed && { failures: 0 }) });
    });
    await saveProgress();
    await advanceVerification(progress, {
      shouldStop: () => job.remainingMs() < STOP_WITH_MS_LEFT,
      onProgress: () => {
        progressed = true;
        return saveProgress();
      },
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
      if (!report.intact)
        logger.warn("audit trail not intact", {
          securityEvent: AUDIT_NOT_INTACT,
          orgId: event.orgId,
          jobId: event.jobId,
          ...firstProblem(report),
        });
      return { outcome: "done" };
    }
    // Hand on: release the lease with the progress saved, then start the next run to resume from it.
    await save({ ...released(current), progress, runs: current.runs + 1 });
    await startJob("verifyAudit", { ...event });
    return { outcome: "handed-on" };
  } catch (error) {
    failed = true;
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
      // Unable to say whether the trail is intact: as alarming as a trail that is not (unless the start
      // itself asked for a checkpoint that does not exist).
      const notFound = error instanceof AppError && error.kind === "not_found";
      logger.warn("audit verification failed", {
        ...(!notFound && { securityEvent: AUDIT_VERIFICATION_FAILED }),
        orgId: event.orgId,
        jobId: event.jobId,
        code,
      });
      return { outcome: "failed" };
    }
    throw error;
  }
}

export const handler = createJob("verifyAudit", run);
