import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { loadVerificationJob, newVerificationJob } from "../../functions/audit/verification";
import { run as runVerifyJob } from "../../functions/audit/verify.job";
import {
  auditEntry,
  ChainWriter,
  chainHash,
  checkInsert,
  jobMeta,
  queryEntries,
  readOrgChains,
  type StoredEntry,
  verifyOrg,
} from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { testStack } from "../support/stack";

/**
 * Items that any function allowed to append may put on the audit table (the resource policy admits any
 * put to a chain's key with audit attribute names), made to break the readers of the trail rather than to
 * hide in it: the review's reproductions (review-2), turned around. Each must be named by the live
 * witness, reported by the verifier and its job, and flagged by the compliance queries, never crash them.
 */
const stack = testStack();
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };
const WAIT_MS = 15_000;

const put = (table: string, item: Record<string, unknown>) =>
  aws("dynamo").send(new PutCommand({ TableName: table, Item: item }));
const audit = () => getConfig().TABLE_AUDIT;

async function chainOf(orgId: string, count = 4): Promise<StoredEntry[]> {
  const writer = new ChainWriter();
  const principal = { userId: "u1", orgId, role: "coach" as const };
  for (let i = 0; i < count; i++) {
    await writer.append(
      auditEntry(principal, { ...meta, requestId: `r${i}` }, "client.read", { type: "client", id: `c${i}` }, [
        "name",
      ]),
    );
  }
  return (await readOrgChains(orgId)).find((entries) => entries.length > 0) as StoredEntry[];
}

/** The next item of a chain, correctly linked and hashed, whatever its text. */
function linkedAfter(head: StoredEntry, text: unknown): Record<string, unknown> {
  const seq = head.seq + 1;
  return {
    pk: head.pk,
    seq,
    prevHash: head.hash,
    hash: chainHash(head.hash, seq, String(text)),
    entry: text,
  };
}

type LogLine = Record<string, unknown>;
const logLines = (): LogLine[] =>
  readFileSync(stack.logFile, "utf8")
    .split("\n")
    .filter((line) => line.includes('"securityEvent"'))
    .map((line) => JSON.parse(line) as LogLine);

async function eventFor(match: (line: LogLine) => boolean): Promise<LogLine> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const found = logLines().find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("no such security event in the stack's log");
}

const invocation = () => ({
  service: "job:verifyAudit",
  meta: jobMeta(randomUUID(), "job:verifyAudit"),
  remainingMs: () => 600_000,
});

describe("text that is no entry, correctly linked at a chain's head (H1)", () => {
  const texts: [string, unknown][] = [
    ["{}", "{}"],
    ["1", "1"],
    ["[]", "[]"],
    ['"x"', '"x"'],
    ["null", "null"],
    ["not JSON", "not an entry"],
    ["a number, not text", 1],
    ["an entry with a key no entry has", undefined],
  ];

  it.each(texts)("%s: the witness names it, the verifier and its job report it", async (name, given) => {
    const org = `poison-${randomUUID().slice(0, 8)}`;
    const chain = await chainOf(org);
    const head = chain.at(-1) as StoredEntry;
    const text = given ?? JSON.stringify({ ...JSON.parse(head.entry), planted: "x" });
    const poison = linkedAfter(head, text);
    await put(audit(), poison);
    const at = { chain: head.pk, seq: head.seq + 1 };

    // The witness's check names it …
    expect(await checkInsert(poison, new Map())).toEqual({ problem: "not-an-entry" });
    // … and so does the stack's witness, as a security event, within seconds.
    expect(
      await eventFor(
        (line) =>
          line.securityEvent === "AUDIT_CHAIN_BROKEN" && line.chain === at.chain && line.seq === at.seq,
      ),
    ).toMatchObject({ problem: "not-an-entry" });

    // The verifier reports it (from genesis and from the latest checkpoint alike) …
    for (const from of ["genesis", "latest"] as const) {
      const report = await verifyOrg(org, from);
      expect([name, report.intact, report.entryProblem]).toEqual([name, false, { ...at, problem: "entry" }]);
    }
    // … and the job finishes with that report.
    const job = newVerificationJob(org, randomUUID(), "genesis", "vitest");
    await put(getConfig().TABLE_RECORDS, job);
    expect(await runVerifyJob({ orgId: org, jobId: job.jobId }, invocation())).toEqual({ outcome: "done" });
    expect(await loadVerificationJob(org, job.jobId)).toMatchObject({
      state: "done",
      report: { intact: false, entryProblem: { ...at, problem: "entry" } },
    });
  });

  it("a compliance query shows such an item as not valid, without its text", async () => {
    const org = `poison-q-${randomUUID().slice(0, 8)}`;
    const chain = await chainOf(org, 2);
    const head = chain.at(-1) as StoredEntry;
    const entry = JSON.parse(head.entry);
    // Findable by the org's index, but its text is no entry (a key no entry has).
    const text = JSON.stringify({ ...entry, planted: "x" });
    await put(audit(), { ...linkedAfter(head, text), org: `ORG#${org}`, at: `${entry.time}#${head.pk}#x` });
    const page = await queryEntries(org, { limit: 10 });
    const flagged = page.items.find((item) => item.seq === head.seq + 1);
    expect(flagged).toEqual({
      chain: head.pk,
      seq: head.seq + 1,
      hash: expect.any(String),
      hashValid: false,
    });
  });
});
