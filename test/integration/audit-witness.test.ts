import { DeleteCommand, GetCommand, NumberValue, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  appendWithItems,
  auditEntry,
  ChainWriter,
  canonicalEntry,
  chainHash,
  readOrgChains,
  type StoredEntry,
  writeCheckpoint,
} from "../../shared/audit";
import { indexAttributes } from "../../shared/audit/chain";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { logger } from "../../shared/log";
import { type SecurityEventLine, securityEventFor, securityEvents } from "../support/security-events";
import { testStack } from "../support/stack";

// These tests wait for the stream consumers (witness, detectors), which late in a full run can be minutes
// behind (test/support/compliance.ts waits up to two minutes for each): more than the stack default of 60 s.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

/**
 * The live witness as the local stack runs it: the audit table's stream polled every second by the same
 * witness code Lambda runs in the cloud. Someone with write access to the table alters it directly; the
 * security event shows up in the stack's log within seconds, naming chain and sequence. The heads it
 * records keep the checkpoint job from signing a chain that contradicts them.
 */
const stack = testStack();
const meta = { requestId: "r", sourceIp: "127.0.0.1", userAgent: "vitest" };
/** How long a test waits for the witness (polling every second locally; bench:witness measures the latency). */
const WAIT_MS = 15_000;

type LogLine = SecurityEventLine;
const eventFor = (match: (line: LogLine) => boolean) => securityEventFor(stack.logFile, match, WAIT_MS);

async function chainOf(orgId: string, count = 5): Promise<StoredEntry[]> {
  const writer = new ChainWriter();
  const principal = { userId: "witness-user", orgId, role: "coach" as const };
  for (let i = 0; i < count; i++) {
    await writer.append(
      auditEntry(
        principal,
        { ...meta, requestId: `r${i}` },
        "client.read",
        { type: "client", id: `c${i}` },
        [],
      ),
    );
  }
  return (await readOrgChains(orgId)).find((entries) => entries.length > 0) as StoredEntry[];
}

const table = () => getConfig().TABLE_AUDIT;
const put = (item: Record<string, unknown>) =>
  aws("dynamo").send(new PutCommand({ TableName: table(), Item: item }));

/** Waits until the witness has recorded the chain's head at `seq`. */
async function witnessed(chain: string, seq: number) {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const { Item } = await aws("dynamo").send(
      new GetCommand({ TableName: getConfig().TABLE_WITNESS, Key: { pk: chain }, ConsistentRead: true }),
    );
    if (Item && Number(Item.seq) >= seq) return Item;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the witness did not record the head");
}

/** The next entry of a chain, as a writer with table access but no respect for the chain would put it. */
function nextItem(head: StoredEntry, changes: { prevHash?: string; extra?: Record<string, unknown> } = {}) {
  const entry = { ...JSON.parse(head.entry), requestId: "forged" };
  const text = canonicalEntry(entry);
  const seq = head.seq + 1;
  const prevHash = changes.prevHash ?? head.hash;
  return {
    pk: head.pk,
    seq,
    prevHash,
    hash: chainHash(prevHash, seq, text),
    entry: text,
    ...indexAttributes(entry, head.pk, seq),
    ...changes.extra,
  };
}

describe("the live witness", () => {
  it("an entry changed in place raises AUDIT_TAMPER_DETECTED naming its chain, sequence and the attributes changed", async () => {
    const chain = await chainOf("witness-update");
    const victim = chain[2] as StoredEntry;
    await aws("dynamo").send(
      new UpdateCommand({
        TableName: table(),
        Key: { pk: victim.pk, seq: victim.seq },
        UpdateExpression: "SET actor = :other",
        ExpressionAttributeValues: { ":other": "ORG#witness-update#USER#someone-else" },
      }),
    );
    const event = await eventFor((line) => line.chain === victim.pk && line.seq === victim.seq);
    expect(event).toMatchObject({
      level: "WARN",
      securityEvent: "AUDIT_TAMPER_DETECTED",
      change: "modified",
      attributes: ["actor"],
    });
  });

  it("an entry deleted, or overwritten by a put (which IAM cannot forbid), raises it too", async () => {
    const chain = await chainOf("witness-remove");
    const [removed, overwritten] = [chain[1] as StoredEntry, chain[3] as StoredEntry];
    await aws("dynamo").send(
      new DeleteCommand({ TableName: table(), Key: { pk: removed.pk, seq: removed.seq } }),
    );
    await put({ ...overwritten, entry: overwritten.entry.replace('"client.read"', '"client.list"') });
    const at = (entry: StoredEntry) => (line: LogLine) => line.chain === entry.pk && line.seq === entry.seq;
    expect(await eventFor(at(removed))).toMatchObject({
      securityEvent: "AUDIT_TAMPER_DETECTED",
      change: "removed",
    });
    expect(await eventFor(at(overwritten))).toMatchObject({
      securityEvent: "AUDIT_TAMPER_DETECTED",
      change: "modified",
      attributes: ["entry"],
    });
  });

  it("an append that does not fit its chain raises AUDIT_CHAIN_BROKEN: a wrong link, a planted index attribute, a gap, no chain at all", async () => {
    const broken = (item: { pk: string; seq: number }) => (line: LogLine) =>
      line.securityEvent === "AUDIT_CHAIN_BROKEN" && line.chain === item.pk && line.seq === item.seq;

    const linked = await chainOf("witness-link");
    const wrongLink = nextItem(linked.at(-1) as StoredEntry, { prevHash: "f".repeat(64) });
    await put(wrongLink);
    expect(await eventFor(broken(wrongLink))).toMatchObject({ problem: "link" });

    const planted = await chainOf("witness-planted");
    const withExtra = nextItem(planted.at(-1) as StoredEntry, { extra: { planted: "x" } });
    await put(withExtra);
    expect(await eventFor(broken(withExtra))).toMatchObject({
      problem: "index-attribute",
      attribute: "planted",
    });

    const gapped = await chainOf("witness-gap");
    const beyond = nextItem(gapped.at(-1) as StoredEntry);
    const skipped = {
      ...beyond,
      seq: beyond.seq + 1,
      hash: chainHash(beyond.prevHash, beyond.seq + 1, beyond.entry),
    };
    await put({ ...skipped, at: indexAttributes(JSON.parse(beyond.entry), beyond.pk, skipped.seq).at });
    expect(await eventFor(broken(skipped))).toMatchObject({ problem: "gap" });

    const outside = { ...nextItem(gapped.at(-1) as StoredEntry), pk: "PLAIN#witness-gap" };
    await put(outside);
    expect(await eventFor(broken(outside))).toMatchObject({ problem: "not-a-chain" });

    // A sequence no JavaScript number or BigInt holds: named all the same, not a record the witness chokes on.
    const huge = { ...nextItem(gapped.at(-1) as StoredEntry), pk: "ORG#witness-gap#SHARD#0" };
    await put({ ...huge, seq: NumberValue.from("12345678901234567890.5") });
    expect(
      await eventFor(
        (line) =>
          line.securityEvent === "AUDIT_CHAIN_BROKEN" &&
          line.chain === huge.pk &&
          line.problem === "sequence",
      ),
    ).toBeDefined();
  });

  it("honest appends raise nothing, and their heads are recorded", async () => {
    const chain = await chainOf("witness-honest", 7);
    const head = chain.at(-1) as StoredEntry;
    expect(await witnessed(head.pk, head.seq)).toMatchObject({ seq: head.seq, hash: head.hash });
    expect(
      securityEvents(stack.logFile).filter((line) => String(line.chain).startsWith("ORG#witness-honest#")),
    ).toEqual([]);
  });

  afterEach(() => vi.restoreAllMocks());

  it("a chain cut below, or rewritten at, a head the witness saw is not checkpointed: a security event, and the checkpoint fails", async () => {
    // The checkpoint runs in this process (as the job would): its security events are this logger's.
    const warn = vi.spyOn(logger, "warn");
    const checkpointEvent = (chain: string, seq: number) =>
      warn.mock.calls
        .map(([, attributes]) => attributes as LogLine)
        .find((line) => line?.detectedBy === "checkpoint" && line.chain === chain && line.seq === seq);
    const cut = await chainOf("witness-cut", 6);
    const head = cut.at(-1) as StoredEntry;
    await witnessed(head.pk, head.seq);
    await aws("dynamo").send(new DeleteCommand({ TableName: table(), Key: { pk: head.pk, seq: head.seq } }));
    await expect(writeCheckpoint("witness-cut")).rejects.toMatchObject({
      code: "AUDIT_WITNESS_CONTRADICTED",
    });
    expect(checkpointEvent(head.pk, head.seq)).toMatchObject({
      securityEvent: "AUDIT_TAMPER_DETECTED",
      problem: "truncated",
      orgId: "witness-cut",
    });

    // Rewritten consistently from the witnessed head on and appended to: the chain alone looks fine.
    const rewritten = await chainOf("witness-rewrite", 4);
    const seen = rewritten.at(-1) as StoredEntry;
    await witnessed(seen.pk, seen.seq);
    const forged = { ...JSON.parse(seen.entry), action: "client.list" };
    const text = canonicalEntry(forged);
    await put({
      ...seen,
      entry: text,
      hash: chainHash(seen.prevHash, seen.seq, text),
      action: "client.list",
    });
    await appendWithItems(
      auditEntry(
        { userId: "witness-user", orgId: "witness-rewrite", role: "coach" },
        meta,
        "client.read",
        { type: "client", id: "x" },
        [],
      ),
    );
    await expect(writeCheckpoint("witness-rewrite")).rejects.toMatchObject({
      code: "AUDIT_WITNESS_CONTRADICTED",
    });
    expect(checkpointEvent(seen.pk, seen.seq)).toMatchObject({ problem: "changed" });
    // … and a chain the witness has no quarrel with still is.
    await chainOf("witness-fine", 3);
    expect((await writeCheckpoint("witness-fine")).checkpoint.number).toBe(1);
  });
});
