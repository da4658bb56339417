import { randomUUID } from "node:crypto";
import { DeleteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  loadVerificationJob,
  type VerificationJob,
  verificationKey,
} from "../../functions/audit/verification";
import { run } from "../../functions/audit/verify-daily.job";
import { auditEntry, ChainWriter, jobMeta, verifyOrg, writeCheckpoint } from "../../shared/audit";
import { disclosurePartition } from "../../shared/audit/chain";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { orgRegistryItem } from "../../shared/people";
import { getRecord, queryAll, recordsWithPrefix } from "../../shared/store";
import { securityEventFor } from "../support/security-events";
import { testStack } from "../support/stack";

/**
 * The daily verification from genesis (functions/audit/verify-daily.job.ts), run in this process: it
 * starts a verification job of every registered org, which the stack's Lambda endpoint runs. A disclosure
 * pointer removed before the newest checkpoint is invisible to a verification from `latest` (which reads
 * only what came after the checkpoint); the daily one finds it and raises a security event.
 */
const stack = testStack();
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };
const invocation = () => ({
  service: "job:verifyAuditDaily",
  meta: jobMeta(randomUUID(), "job:verifyAuditDaily"),
  remainingMs: () => 120_000,
});

async function finishedJobOf(orgId: string): Promise<VerificationJob> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const [request] = await recordsWithPrefix<VerificationJob>(orgId, "AUDITVERIFY#");
    const job = request && (await loadVerificationJob(orgId, request.jobId));
    if (job && job.state !== "running") return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("no finished verification job");
}

describe("the daily verification from genesis", () => {
  it("starts a genesis verification of every registered org, which finds a pointer removed before the newest checkpoint and raises AUDIT_NOT_INTACT", async () => {
    const org = `daily-${randomUUID().slice(0, 8)}`;
    const { TABLE_RECORDS, TABLE_DIRECTORY } = getConfig();
    await aws("dynamo").send(new PutCommand({ TableName: TABLE_DIRECTORY, Item: orgRegistryItem(org) }));
    const principal = { userId: "u1", orgId: org, role: "coach" as const };
    const writer = new ChainWriter();
    const read = (clientId: string) =>
      writer.append(
        auditEntry(principal, meta, "client.read", { type: "client", id: clientId, clientId }, []),
      );
    const appended = await read("c1");
    await read("c2"); // the checkpointed head, after the entry whose pointer goes
    await writeCheckpoint(org);
    // Someone able to delete records removes the client's pointer (IAM now denies that to every function).
    const partition = disclosurePartition(org, "c1");
    const [pointer] = await queryAll<{ pk: string; sk: string }>({
      TableName: TABLE_RECORDS,
      KeyConditionExpression: "pk = :p",
      ExpressionAttributeValues: { ":p": partition },
    });
    expect(pointer).toBeDefined();
    await aws("dynamo").send(
      new DeleteCommand({ TableName: TABLE_RECORDS, Key: { pk: partition, sk: pointer?.sk } }),
    );
    expect((await verifyOrg(org, "latest")).intact).toBe(true);

    const result = await run({}, invocation());
    expect(result.started).toBe(result.orgs);
    const job = await finishedJobOf(org);
    expect(job).toMatchObject({ from: "genesis", requestedBy: "job:verifyAuditDaily", state: "done" });
    expect(job.report?.intact).toBe(false);
    expect(job.report?.indexProblem).toMatchObject({ chain: appended.chain, seq: appended.seq });
    expect(await getRecord(verificationKey(org, job.jobId))).toBeDefined();
    expect(
      await securityEventFor(
        stack.logFile,
        (line) => line.securityEvent === "AUDIT_NOT_INTACT" && line.jobId === job.jobId,
      ),
    ).toMatchObject({ orgId: org });
  });
});
