import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  currentVerification,
  loadVerificationJob,
  newVerificationJob,
  type VerificationJob,
  verificationRequestKey,
  verificationStatus,
} from "../../functions/audit/verification";
import { run, type VerifyAuditEvent } from "../../functions/audit/verify.job";
import {
  appendWithItems,
  auditEntry,
  ChainWriter,
  jobMeta,
  readOrgChains,
  type StoredEntry,
  type VerifyFrom,
  verifyOrg,
  writeCheckpoint,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig, resetConfig } from "../../shared/config";
import type { JobInvocation } from "../../shared/jobs";
import { logger } from "../../shared/log";
import { arm, disarm, installFaultInjector, recorded } from "../support/faults";
import { testStack } from "../support/stack";

/**
 * The verification job (functions/audit/verify.job.ts) run in this process against the local stack, with
 * a page of 4 entries so that even small chains take many pages: stopped for time, it hands on to a run
 * the stack's Lambda endpoint starts; crashed, it is resumed by a retry; either way its report is the one
 * an uninterrupted run gives. It finds a tampered entry deep in a chain.
 */
testStack();
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };

beforeAll(() => {
  process.env.AUDIT_VERIFY_PAGE = "4";
  resetConfig();
  installFaultInjector();
});
afterAll(() => {
  delete process.env.AUDIT_VERIFY_PAGE;
  resetConfig();
  disarm();
});

const invocation = (remainingMs: () => number): JobInvocation => {
  const requestId = randomUUID();
  return { service: "job:verifyAudit", meta: jobMeta(requestId, "job:verifyAudit"), remainingMs };
};
const plenty = () => 10 * 60_000;

/** A job record as the start route writes it. */
async function newJob(orgId: string, from: VerifyFrom = "genesis"): Promise<VerifyAuditEvent> {
  const job = newVerificationJob(orgId, randomUUID(), from, "vitest");
  await aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: job }));
  return { orgId, jobId: job.jobId, from };
}

async function finished(event: VerifyAuditEvent) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const job = await loadVerificationJob(event.orgId, event.jobId);
    if (job?.state !== "running") return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the job did not finish");
}

/** An org with several chains (one per writer), entries naming clients, and checkpoints in between. */
async function seed(orgId: string) {
  const writers = Array.from({ length: 5 }, () => new ChainWriter());
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 18; i++) {
      const principal = { userId: `u${i % 3}`, orgId, role: "coach" as const };
      await (writers[i % writers.length] as ChainWriter).append(
        auditEntry(
          principal,
          { ...meta, requestId: `r${round}-${i}` },
          "client.read",
          { type: "client", id: `c${i}`, clientId: `c${i}` },
          ["name"],
          { relationship: "assigned", breakGlass: false },
        ),
      );
    }
    await writeCheckpoint(orgId);
  }
  await appendWithItems(
    auditEntry({ userId: "u9", orgId, role: "coach" }, meta, "client.list", { type: "client", id: "*" }, []),
  );
}

describe("the verification job", () => {
  it("stopped for time, hands on to a new run and finishes with the report of an uninterrupted run", async () => {
    await seed("vj-resume");
    const whole = await newJob("vj-resume");
    expect(await run(whole, invocation(plenty))).toEqual({ outcome: "done" });
    const reference = await loadVerificationJob(whole.orgId, whole.jobId);
    expect(reference?.report).toMatchObject({ intact: true, checkpoints: 3, entries: 55 });
    expect(reference?.runs).toBe(0);
    expect(reference?.report).toEqual(await verifyOrg("vj-resume"));

    // No time at all: one page, then the progress is saved and the job started again (the stack runs it).
    const interrupted = await newJob("vj-resume");
    expect(
      await run(
        interrupted,
        invocation(() => 0),
      ),
    ).toEqual({ outcome: "handed-on" });
    const saved = await loadVerificationJob(interrupted.orgId, interrupted.jobId);
    expect(saved?.progress?.chains.reduce((total, chain) => total + chain.entries, 0)).toBeLessThan(55);
    const resumed = await finished(interrupted);
    expect(resumed).toMatchObject({ state: "done", runs: 1 });
    expect(resumed?.report).toEqual(reference?.report);
    expect(resumed?.progress).toBeUndefined();
  });

  it("crashed midway, is resumed by Lambda's retry from the saved state, again with the same report", async () => {
    const reference = await verifyOrg("vj-resume");
    const event = await newJob("vj-resume");
    arm();
    await run(await newJob("vj-resume"), invocation(plenty));
    const calls = recorded().calls.length;
    let attempts = 0;
    for (const [share, kind] of [
      [0.3, "server"],
      [0.2, "timeout"],
    ] as const) {
      // Fail one AWS call partway through what a whole run makes (a read, or a save whose answer is lost).
      arm({ target: { index: Math.floor(calls * share) }, kind });
      attempts++;
      await expect(run(event, invocation(plenty))).rejects.toBeDefined();
      expect(recorded().fired).toBe(true);
      expect(await loadVerificationJob(event.orgId, event.jobId)).toMatchObject({
        state: "running",
        failures: 1,
      });
    }
    disarm();
    expect(await run(event, invocation(plenty))).toEqual({ outcome: "done" });
    const done = await loadVerificationJob(event.orgId, event.jobId);
    expect(attempts).toBe(2);
    expect(done?.report).toEqual(reference);
  });

  it("a duplicate delivery of a running job's event leaves it to the run that holds it", async () => {
    const event = await newJob("vj-resume");
    const job = await loadVerificationJob(event.orgId, event.jobId);
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_RECORDS,
        Item: { ...job, runner: "another-run", leaseUntil: Date.now() + 60_000 },
      }),
    );
    expect(await run(event, invocation(plenty))).toEqual({ outcome: "busy" });
    expect(await loadVerificationJob(event.orgId, event.jobId)).toMatchObject({ runner: "another-run" });
  });

  it("finds a tampered entry and a re-keyed index attribute deep in a chain, past many pages", async () => {
    const writer = new ChainWriter();
    const principal = { userId: "deep-user", orgId: "vj-deep", role: "coach" as const };
    for (let i = 0; i < 60; i++) {
      await writer.append(
        auditEntry(
          principal,
          { ...meta, requestId: `r${i}` },
          "client.read",
          { type: "client", id: `c${i}` },
          [],
        ),
      );
      if (i === 29) await writeCheckpoint("vj-deep");
    }
    const [chain] = (await readOrgChains("vj-deep")).filter((entries) => entries.length > 0) as [
      StoredEntry[],
    ];
    expect(chain).toHaveLength(60);
    const put = (item: StoredEntry & Record<string, unknown>) =>
      aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_AUDIT, Item: item }));
    const victim = chain[46] as StoredEntry;
    // A change the hash shows but no index attribute reflects (fields are not indexed).
    await put({ ...victim, entry: victim.entry.replace('"fields":[]', '"fields":["phone"]') });
    const rekeyed = chain[52] as StoredEntry & { actor: string };
    await put({ ...rekeyed, actor: "ORG#vj-deep#USER#someone-else" });

    const event = await newJob("vj-deep");
    const warn = vi.spyOn(logger, "warn");
    expect(await run(event, invocation(plenty))).toEqual({ outcome: "done" });
    // A trail found not intact is a security event (alarmed), naming where.
    expect(warn).toHaveBeenCalledWith(
      "audit trail not intact",
      expect.objectContaining({
        securityEvent: "AUDIT_NOT_INTACT",
        orgId: "vj-deep",
        entryProblem: { chain: victim.pk, seq: 47, problem: "hash" },
      }),
    );
    warn.mockRestore();
    const { report } = (await loadVerificationJob(event.orgId, event.jobId)) ?? {};
    expect(report).toMatchObject({
      intact: false,
      entries: 60,
      entryProblem: { chain: victim.pk, seq: 47, problem: "hash" },
      indexProblem: { chain: victim.pk, seq: 53, problem: "index-attribute", attribute: "actor" },
    });
    expect(report?.checkpointProblem).toBeUndefined();
  });

  it("a failure that recurs before any progress fails the job on its third attempt, with a security event", async () => {
    // A deterministic failure on every attempt: a (retired) signing key the job cannot read.
    process.env.KMS_AUDIT_RETIRED_SIGNING_KEY_IDS = `arn:aws:kms:us-east-1:000000000000:key/${randomUUID()}`;
    resetConfig();
    const warn = vi.spyOn(logger, "warn");
    try {
      const event = await newJob("vj-resume");
      for (const failures of [1, 2]) {
        await expect(run(event, invocation(plenty))).rejects.toBeDefined();
        expect(await loadVerificationJob(event.orgId, event.jobId)).toMatchObject({
          state: "running",
          failures,
        });
      }
      expect(await run(event, invocation(plenty))).toEqual({ outcome: "failed" });
      expect(await loadVerificationJob(event.orgId, event.jobId)).toMatchObject({
        state: "failed",
        failures: 3,
        error: "VERIFICATION_FAILED",
      });
      expect(warn).toHaveBeenCalledWith(
        "audit verification failed",
        expect.objectContaining({ securityEvent: "AUDIT_VERIFICATION_FAILED", jobId: event.jobId }),
      );
    } finally {
      warn.mockRestore();
      delete process.env.KMS_AUDIT_RETIRED_SIGNING_KEY_IDS;
      resetConfig();
    }
  });

  it("what any function writing records can write (the job's request: a state, a report, progress) decides nothing: only the job writes its state (M2)", async () => {
    const orgId = `vj-forged-${randomUUID().slice(0, 8)}`;
    const writer = new ChainWriter();
    for (let i = 0; i < 6; i++)
      await writer.append(
        auditEntry(
          { userId: "u1", orgId, role: "coach" },
          meta,
          "client.read",
          { type: "client", id: `c${i}` },
          [],
        ),
      );
    const [chain] = (await readOrgChains(orgId)).filter((entries) => entries.length > 0) as StoredEntry[][];
    const victim = (chain as StoredEntry[])[2] as StoredEntry;
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_AUDIT,
        Item: { ...victim, entry: victim.entry.replace('"fields":[]', '"fields":["phone"]') },
      }),
    );
    const jobId = randomUUID();
    const now = new Date().toISOString();
    const request = {
      ...verificationRequestKey(orgId, jobId),
      jobId,
      orgId,
      from: "genesis",
      requestedBy: "vitest",
      createdAt: now,
    };
    // What the review forged on the job's single record (R6): done and intact, or every chain read to its end.
    const forged = {
      state: "done",
      report: { intact: true, entries: 6, chains: [] },
      progress: {
        orgId,
        from: "genesis",
        done: true,
        seriesDone: true,
        chains: [{ chain: victim.pk, next: 1e6, ended: true }],
      },
      runs: 0,
      failures: 0,
      updatedAt: now,
    };
    await aws("dynamo").send(
      new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: { ...request, ...forged } }),
    );
    const before = await currentVerification(orgId, jobId);
    expect(before).toMatchObject({ state: "running", runs: 0 });
    expect(before?.report).toBeUndefined();
    expect(before?.progress).toBeUndefined();

    expect(await run({ orgId, jobId, from: "genesis" }, invocation(plenty))).toEqual({ outcome: "done" });
    const status = verificationStatus((await currentVerification(orgId, jobId)) as VerificationJob);
    expect(status.state).toBe("done");
    expect(status.report).toMatchObject({
      intact: false,
      entryProblem: { chain: victim.pk, seq: victim.seq, problem: "hash" },
    });
  });

  it("runs from where its start event says, not from a request changed in the records table since (a security event)", async () => {
    // The seeded org: entries before its newest checkpoint exist, so a start from genesis reads more
    // than one from the latest checkpoint (or than a failure on a checkpoint that does not exist).
    for (const changedTo of [99, "latest"] as const) {
      const jobId = randomUUID();
      const request = {
        ...verificationRequestKey("vj-resume", jobId),
        jobId,
        orgId: "vj-resume",
        requestedBy: "job:verifyAuditDaily",
        createdAt: new Date().toISOString(),
      };
      // Made for genesis, then changed by a function able to write records, before the job's first run.
      await aws("dynamo").send(
        new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: { ...request, from: changedTo } }),
      );
      const warn = vi.spyOn(logger, "warn");
      const event = { orgId: "vj-resume", jobId, from: "genesis" } as const;
      expect(await run(event, invocation(plenty))).toEqual({ outcome: "done" });
      expect(warn).toHaveBeenCalledWith(
        "audit verification request changed",
        expect.objectContaining({ securityEvent: "AUDIT_VERIFICATION_REQUEST_CHANGED", jobId }),
      );
      warn.mockRestore();
      const job = (await loadVerificationJob("vj-resume", jobId)) as VerificationJob;
      expect([changedTo, job.from, job.state]).toEqual([changedTo, "genesis", "done"]);
      expect(job.report?.fromCheckpoint).toBe(0);
    }
  });

  it("a job whose event aged out of Lambda's queue, or that stopped for longer than that, shows as failed NOT_RUN", async () => {
    const longAgo = new Date(Date.now() - 7 * 3600_000).toISOString();
    const asked = randomUUID();
    await aws("dynamo").send(
      new PutCommand({
        TableName: getConfig().TABLE_RECORDS,
        Item: {
          ...verificationRequestKey("vj-resume", asked),
          jobId: asked,
          orgId: "vj-resume",
          from: "genesis",
          requestedBy: "vitest",
          createdAt: longAgo,
        },
      }),
    );
    expect(await currentVerification("vj-resume", asked)).toMatchObject({
      state: "failed",
      error: "NOT_RUN",
    });
    const stopped = newVerificationJob("vj-resume", randomUUID(), "genesis", "vitest");
    await aws("dynamo").send(
      new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: { ...stopped, updatedAt: longAgo } }),
    );
    expect(await currentVerification("vj-resume", stopped.jobId)).toMatchObject({
      state: "failed",
      error: "NOT_RUN",
    });
    // A job asked for or saved within that time is still running.
    const recent = newVerificationJob("vj-resume", randomUUID(), "genesis", "vitest");
    await aws("dynamo").send(new PutCommand({ TableName: getConfig().TABLE_RECORDS, Item: recent }));
    expect(await currentVerification("vj-resume", recent.jobId)).toMatchObject({ state: "running" });
  });

  it("from a checkpoint that does not exist, fails the job with the reason", async () => {
    const event = await newJob("vj-resume", 99);
    expect(await run(event, invocation(plenty))).toEqual({ outcome: "failed" });
    expect(await loadVerificationJob(event.orgId, event.jobId)).toMatchObject({
      state: "failed",
      error: "CHECKPOINT_NOT_FOUND",
    });
  });
});
