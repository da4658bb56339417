import { randomUUID } from "node:crypto";
import { GetCommand, NumberValue, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadVerificationJob, newVerificationJob } from "../../functions/audit/verification";
import { run as runVerifyJob } from "../../functions/audit/verify.job";
import {
  advanceVerification,
  auditEntry,
  beginVerification,
  ChainWriter,
  canonicalEntry,
  chainHash,
  chainId,
  checkInsert,
  GENESIS_HASH,
  jobMeta,
  queryDisclosures,
  queryEntries,
  readOrgChains,
  type StoredEntry,
  verificationReport,
  verifyOrg,
  writeCheckpoint,
} from "../../shared/audit";
import { indexAttributes, parseChainId } from "../../shared/audit/chain";
import { aws } from "../../shared/aws";
import { getConfig, resetConfig } from "../../shared/config";
import { logger } from "../../shared/log";
import { type SecurityEventLine, securityEventFor } from "../support/security-events";
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

type LogLine = SecurityEventLine;
const eventFor = (match: (line: LogLine) => boolean) => securityEventFor(stack.logFile, match, WAIT_MS);

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
    expect(await runVerifyJob({ orgId: org, jobId: job.jobId, from: "genesis" }, invocation())).toEqual({
      outcome: "done",
    });
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

/** An entry of the org, well formed, to put by hand at any place of a chain. */
function forgedItem(orgId: string, chain: string, seq: number | NumberValue, prevHash = GENESIS_HASH) {
  const entry = auditEntry(
    { userId: "x", orgId, role: "coach" },
    meta,
    "client.read",
    { type: "client", id: "x" },
    [],
  );
  const text = canonicalEntry(entry);
  const at = typeof seq === "number" ? seq : Number(seq.toString());
  return {
    pk: chain,
    seq,
    prevHash,
    hash: chainHash(prevHash, at, text),
    entry: text,
    ...indexAttributes(entry, chain, Number.isSafeInteger(at) ? at : 0),
  };
}

async function witnessRecordOf(chain: string, until: (item: Record<string, unknown>) => boolean) {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const { Item } = await aws("dynamo").send(
      new GetCommand({ TableName: getConfig().TABLE_WITNESS, Key: { pk: chain }, ConsistentRead: true }),
    );
    if (Item && until(Item)) return Item;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the witness did not record it");
}

const userEntry = (orgId: string) =>
  auditEntry({ userId: "legit", orgId, role: "coach" }, meta, "client.read", { type: "client", id: "c" }, []);

describe("items at absurd sequence numbers, or leaving a gap (H2)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("one put per chain beyond the highest sequence (2^53-1, 10^15, a huge non-integer) stops no writer and no verification", async () => {
    const org = `brick-${randomUUID().slice(0, 8)}`;
    await chainOf(org, 1);
    const beyond = [Number.MAX_SAFE_INTEGER, 10 ** 15, NumberValue.from("12345678901234567890.5")];
    for (let shard = 0; shard < getConfig().AUDIT_SHARDS; shard++) {
      const chain = chainId(org, shard);
      await put(audit(), forgedItem(org, chain, beyond[shard % beyond.length] as number | NumberValue));
    }
    // A writer that reads a head (cold, or after a lost race) appends under them, linked to the chain.
    const appended = await new ChainWriter().append(userEntry(org));
    expect(appended.seq).toBeLessThanOrEqual(2);
    // The verifier names each of them, at the position its chain had reached, instead of throwing.
    const report = await verifyOrg(org, "genesis");
    expect(report.intact).toBe(false);
    const flagged = report.chains.filter((chain) => chain.problem?.problem === "sequence");
    expect(flagged).toHaveLength(getConfig().AUDIT_SHARDS);
    for (const chain of flagged) expect(chain.problem?.seq).toBe(chain.entries + 1);
    // A compliance query over the org does not choke on them either.
    await expect(queryEntries(org, { limit: 100 })).resolves.toBeDefined();
  });

  it("more than a page of items between two integers (above a chain's head, in an empty chain) is read past: verification ends and names them (review-3 H2)", async () => {
    process.env.AUDIT_VERIFY_PAGE = "4";
    resetConfig();
    try {
      const org = `between-${randomUUID().slice(0, 8)}`;
      const head = (await chainOf(org, 1))[0] as StoredEntry;
      const empty = chainId(org, ((parseChainId(head.pk)?.shard ?? 0) + 1) % getConfig().AUDIT_SHARDS);
      const page = getConfig().AUDIT_VERIFY_PAGE;
      const between = (chain: string, below: number) =>
        Array.from({ length: page + 1 }, (_, i) =>
          put(audit(), { pk: chain, seq: below + (i + 1) / (page + 2), hash: "x" }),
        );
      await Promise.all([...between(head.pk, head.seq), ...between(empty, 1)]);
      const progress = await beginVerification(org, "genesis");
      let pages = 0;
      // A bound on the run only so that a live-lock fails the test instead of hanging it.
      await advanceVerification(progress, {
        shouldStop: () => ++pages > 100,
        onProgress: async () => undefined,
      });
      expect(progress.done).toBe(true);
      const problems = verificationReport(progress).chains.map((chain) => chain.problem);
      expect(problems).toContainEqual({ chain: head.pk, seq: head.seq + 1, problem: "sequence" });
      expect(problems).toContainEqual({ chain: empty, seq: 1, problem: "sequence" });
    } finally {
      delete process.env.AUDIT_VERIFY_PAGE;
      resetConfig();
    }
  });

  it("the witness flags such an item and never records it as the chain's head, so the checkpoint does not pin it (R7)", async () => {
    const org = `head-${randomUUID().slice(0, 8)}`;
    const chain = await chainOf(org, 2);
    const head = chain.at(-1) as StoredEntry;
    await witnessRecordOf(head.pk, (item) => Number(item.seq) === head.seq);
    const absurd = forgedItem(org, head.pk, Number.MAX_SAFE_INTEGER);
    await put(audit(), absurd);
    expect(
      await eventFor(
        (line) =>
          line.securityEvent === "AUDIT_CHAIN_BROKEN" &&
          line.chain === head.pk &&
          line.seq === Number.MAX_SAFE_INTEGER,
      ),
    ).toMatchObject({ problem: "sequence" });
    // An honest append after it is recorded: the chain under the stray item is whole, and witnessed.
    const next = await new ChainWriter().append(userEntry(org));
    if (next.chain === head.pk) await witnessRecordOf(head.pk, (item) => Number(item.seq) === next.seq);
    const record = await witnessRecordOf(head.pk, () => true);
    expect(Number(record.seq)).toBeLessThanOrEqual(head.seq + 1);
    expect(record.broken).toBeUndefined();
    const signed = await writeCheckpoint(org);
    expect(signed.checkpoint.heads.find((h) => h.chain === head.pk)?.seq).toBeLessThanOrEqual(head.seq + 1);
    const report = await verifyOrg(org, "latest");
    expect(report.chains.find((c) => c.chain === head.pk)?.problem).toMatchObject({ problem: "sequence" });
  });

  it("a gap put on top of a chain: the witness marks the chain broken, the checkpoint pins it below the break, and every verification reports it", async () => {
    const org = `gap-${randomUUID().slice(0, 8)}`;
    const chain = await chainOf(org, 3);
    const head = chain.at(-1) as StoredEntry;
    await witnessRecordOf(head.pk, (item) => Number(item.seq) === head.seq);
    const gap = forgedItem(org, head.pk, head.seq + 1000, head.hash);
    await put(audit(), gap);
    const record = await witnessRecordOf(head.pk, (item) => item.broken !== undefined);
    expect(record).toMatchObject({
      seq: head.seq,
      hash: head.hash,
      broken: { seq: head.seq + 1000, problem: "gap" },
    });
    const signed = await writeCheckpoint(org);
    expect(signed.checkpoint.heads.find((h) => h.chain === head.pk)).toEqual({
      chain: head.pk,
      seq: head.seq,
      hash: head.hash,
    });
    for (const from of ["genesis", "latest"] as const) {
      const report = await verifyOrg(org, from);
      expect(report.entryProblem).toEqual({ chain: head.pk, seq: head.seq + 1000, problem: "gap" });
    }
  });

  it("a writer that reads the head of a chain someone put an item on (a gap, text that is no entry, a chain the witness marked broken) moves to another chain, with a security event", async () => {
    const org = `moves-${randomUUID().slice(0, 8)}`;
    const shards = getConfig().AUDIT_SHARDS;
    const spare = shards - 1;
    // Every chain but one gets one entry, then an item on top no writer may append after.
    const heads: StoredEntry[] = [];
    for (let shard = 0; shard < spare; shard++) {
      const chain = chainId(org, shard);
      const first = forgedItem(org, chain, 1);
      await put(audit(), first);
      heads.push(first as unknown as StoredEntry);
    }
    const kinds = ["gap", "not-an-entry", "broken"] as const;
    for (const [index, first] of heads.entries()) {
      const kind = kinds[index % kinds.length];
      if (kind === "gap") await put(audit(), forgedItem(org, first.pk, 5, first.hash));
      if (kind === "not-an-entry") await put(audit(), linkedAfter(first, "{}"));
      if (kind === "broken") {
        // Linked and an entry, but carrying an attribute no entry implies: only the witness can tell.
        await put(audit(), { ...forgedItem(org, first.pk, 2, first.hash), planted: "x" });
        await witnessRecordOf(first.pk, (item) => item.broken !== undefined);
      }
    }
    const warn = vi.spyOn(logger, "warn");
    // Fresh writers pick a chain at random: four of them all land on the one usable chain.
    for (let seq = 1; seq <= 8; seq += 2) {
      const writer = new ChainWriter();
      expect(await writer.append(userEntry(org))).toMatchObject({ chain: chainId(org, spare), seq });
      // It keeps to the chain it found (no head read next time).
      expect(await writer.append(userEntry(org))).toMatchObject({ chain: chainId(org, spare), seq: seq + 1 });
    }
    const moves = warn.mock.calls
      .map(([, attributes]) => attributes as LogLine)
      .filter((line) => line?.detectedBy === "writer" && line.orgId === org);
    // One event per chain a writer found unusable, naming why (each reads heads in random order).
    expect(moves.length).toBeGreaterThan(0);
    for (const line of moves) {
      expect(line.securityEvent).toBe("AUDIT_CHAIN_BROKEN");
      expect(["unlinked", "not-an-entry", "broken"]).toContain(line.problem);
    }
  });

  it("with every chain of the org unusable, a writer still appends (past a broken head), and says so once", async () => {
    const org = `stuck-${randomUUID().slice(0, 8)}`;
    for (let shard = 0; shard < getConfig().AUDIT_SHARDS; shard++) {
      const chain = chainId(org, shard);
      const first = forgedItem(org, chain, 1);
      await put(audit(), first);
      await put(audit(), forgedItem(org, chain, 7, first.hash));
    }
    const warn = vi.spyOn(logger, "warn");
    const writer = new ChainWriter();
    const appended = await writer.append(userEntry(org));
    expect(appended.seq).toBe(8);
    const events = warn.mock.calls
      .map(([, attributes]) => attributes as LogLine)
      .filter((l) => l?.orgId === org);
    expect(events.filter((line) => line.problem === "no-usable-chain")).toHaveLength(1);
    expect(events.filter((line) => line.problem === "unlinked")).toHaveLength(getConfig().AUDIT_SHARDS);
  });

  it("a number no reader can hold in any attribute of a chain's head is named, never a crash of writers, verifier or queries", async () => {
    const org = `numbers-${randomUUID().slice(0, 8)}`;
    const chain = await chainOf(org, 2);
    const head = chain.at(-1) as StoredEntry;
    const bad = {
      ...linkedAfter(head, head.entry),
      hash: NumberValue.from("1e30"),
      org: `ORG#${org}`,
      at: "~",
    };
    await put(audit(), bad);
    const appended = await new ChainWriter().append(userEntry(org));
    expect(appended.seq).toBeGreaterThan(0);
    const report = await verifyOrg(org, "genesis");
    expect(report.chains.find((c) => c.chain === head.pk)?.problem).toEqual({
      chain: head.pk,
      seq: head.seq + 1,
      problem: "hash",
    });
    const page = await queryEntries(org, { limit: 10 });
    expect(page.items.find((item) => item.seq === head.seq + 1)).toMatchObject({ hashValid: false });
  });
});

describe("entries naming ids too long for a key (review-3 H3)", () => {
  afterEach(() => vi.restoreAllMocks());
  const tooLong = "c".repeat(2100); // a disclosure pointer's key built from it is beyond DynamoDB's 2,048 bytes

  /** An item holding an entry that names `resource`, hashed right after `prevHash`. */
  function naming(
    orgId: string,
    chain: string,
    seq: number,
    resource: Record<string, unknown>,
    prevHash = GENESIS_HASH,
  ) {
    const entry = auditEntry(
      { userId: "x", orgId, role: "coach" },
      meta,
      "client.read",
      resource as never,
      [],
    );
    const text = canonicalEntry(entry);
    const at = Number.isInteger(seq) ? seq : 0;
    return {
      pk: chain,
      seq,
      prevHash,
      hash: chainHash(prevHash, seq, text),
      entry: text,
      ...indexAttributes(entry, chain, at),
    };
  }

  it("put between two entries (seq 1.5) or linked on top of a chain, it is no entry: every verification ends and names it", async () => {
    const org = `longid-${randomUUID().slice(0, 8)}`;
    const [first, second] = (await chainOf(org, 2)) as [StoredEntry, StoredEntry];
    const other = chainId(org, ((parseChainId(first.pk)?.shard ?? 0) + 1) % getConfig().AUDIT_SHARDS);
    await put(audit(), naming(org, first.pk, 1.5, { type: "client", id: "x", clientIds: [tooLong] }));
    await put(
      audit(),
      naming(org, second.pk, 3, { type: "client", id: "x", clientId: tooLong }, second.hash),
    );
    await put(audit(), naming(org, other, 1, { type: "client", id: "x", clientId: tooLong }));
    const report = await verifyOrg(org, "genesis");
    expect(report.intact).toBe(false);
    const problems = report.chains.map((chain) => chain.problem);
    expect(problems).toContainEqual({ chain: first.pk, seq: 2, problem: "sequence" });
    expect(problems).toContainEqual({ chain: other, seq: 1, problem: "entry" });
    expect(report.indexProblem).toBeUndefined();
  });

  it("a page whose pointers DynamoDB still refuses to read for what their keys hold is reported, not a verification that throws", async () => {
    const org = `unreadable-${randomUUID().slice(0, 8)}`;
    const writer = new ChainWriter();
    const appended = await writer.append(
      auditEntry(
        { userId: "u1", orgId: org, role: "coach" },
        meta,
        "client.read",
        { type: "client", id: "c", clientId: "c" },
        [],
      ),
    );
    const client = aws("dynamo");
    const send = client.send.bind(client);
    vi.spyOn(client, "send").mockImplementation(((command: { constructor: { name: string } }) => {
      if (command.constructor.name !== "BatchGetCommand") return send(command as never);
      return Promise.reject(Object.assign(new Error("key too large"), { name: "ValidationException" }));
    }) as never);
    const report = await verifyOrg(org, "genesis");
    expect(report.intact).toBe(false);
    expect(report.indexProblem).toEqual({
      chain: appended.chain,
      seq: appended.seq,
      problem: "pointers-unreadable",
    });
  });
});

describe("entries forged outside the chains writers append to and the verifier reads (M1)", () => {
  it("a shard id of another form (SHARD#05), beyond any chain (SHARD#99), beyond the configured ones, or a position below 1: named by the witness, flagged by the queries, found by the verifier", async () => {
    const org = `outside-${randomUUID().slice(0, 8)}`;
    await chainOf(org, 2);
    const shards = getConfig().AUDIT_SHARDS;
    const beyondConfigured = `ORG#${org}#SHARD#${shards}`;
    const forged = [
      { item: forgedItem(org, `ORG#${org}#SHARD#05`, 1), problem: "not-a-chain" },
      { item: forgedItem(org, `ORG#${org}#SHARD#99`, 1), problem: "not-a-chain" },
      { item: forgedItem(org, beyondConfigured, 1), problem: "uncovered" },
    ];
    for (const { item, problem } of forged) {
      expect(await checkInsert(item, new Map())).toEqual({ problem });
      await put(audit(), item);
    }
    // Every compliance query shows them flagged, by org and by actor.
    for (const query of [{ limit: 100 }, { limit: 100, actorId: "x" }]) {
      const page = await queryEntries(org, query);
      const rows = page.items.filter((row) => forged.some(({ item }) => item.pk === row.chain));
      expect(rows).toHaveLength(forged.length);
      for (const row of rows) expect(row).toMatchObject({ hashValid: false, problem: "outside-chains" });
      const honest = page.items.filter((row) => !forged.some(({ item }) => item.pk === row.chain));
      for (const row of honest) expect(row.hashValid).toBe(true);
    }
    // The verifier looks at every chain an id can name beyond the covered ones.
    const report = await verifyOrg(org, "genesis");
    expect(report.intact).toBe(false);
    expect(report.entryProblem).toEqual({ chain: beyondConfigured, seq: 1, problem: "uncovered" });
  });

  it("an item at position 0 of a real chain is flagged by the queries and named by the verifier", async () => {
    const org = `zero-${randomUUID().slice(0, 8)}`;
    const chain = await chainOf(org, 2);
    const zero = forgedItem(org, (chain[0] as StoredEntry).pk, 0);
    await put(audit(), zero);
    const page = await queryEntries(org, { limit: 100 });
    expect(page.items.find((row) => row.seq === 0)).toMatchObject({
      chain: zero.pk,
      hashValid: false,
      problem: "outside-chains",
    });
    const report = await verifyOrg(org, "genesis");
    expect(report.entryProblem).toEqual({ chain: zero.pk, seq: 0, problem: "sequence" });
  });
});

describe("disclosure pointers put by hand (L1)", () => {
  it("a pointer aimed at a 3 KB chain id or at another org's chain is flagged misdirected without being read: the accounting answers 200 with nothing of the other org (review-3 M2)", async () => {
    const [coach, compliance] = await Promise.all([
      stack.token("coach1@demo.example"),
      stack.token("compliance@demo.example"),
    ]);
    const clientId = (await stack.api("POST", "/clients", { token: coach, body: { name: "Pointer Target" } }))
      .json.clientId as string;
    // Another org's entry naming the same client id, which only that org may ever see.
    const other = `elsewhere-${randomUUID().slice(0, 8)}`;
    const secret = `secret-${randomUUID()}`;
    const theirs = await new ChainWriter().append(
      auditEntry(
        { userId: secret, orgId: other, role: "coach" },
        { requestId: secret, sourceIp: "203.0.113.9", userAgent: secret },
        "client.read",
        { type: "client", id: clientId, clientId },
        [],
      ),
    );
    const pointer = (sk: string, target: Record<string, unknown>) =>
      put(getConfig().TABLE_RECORDS, {
        pk: `ORG#demo#DISCLOSED#${clientId}`,
        sk: `2999-01-01T00:00:00.000Z#${sk}`,
        ...target,
      });
    await pointer("a-long", { chain: "x".repeat(3000), seq: 1 });
    await pointer("b-other-org", { chain: theirs.chain, seq: theirs.seq });
    const res = await stack.api("GET", `/clients/${clientId}/disclosures`, { token: compliance });
    expect(res.status, res.text.slice(0, 500)).toBe(200);
    const rows = res.json.items as {
      chain: string;
      seq: number;
      hashValid: boolean;
      problem?: string;
      entry?: unknown;
    }[];
    // Newest first: the pointers sort by sk, "b-other-org" before "a-long".
    const shown = ({ chain, seq, hashValid, problem, entry }: (typeof rows)[number]) => ({
      chain: chain.length > 100 ? `${chain.length} characters` : chain,
      seq,
      hashValid,
      problem,
      entry,
    });
    expect(rows.slice(0, 2).map(shown)).toEqual([
      { chain: theirs.chain, seq: theirs.seq, hashValid: false, problem: "misdirected", entry: undefined },
      { chain: "3000 characters", seq: 1, hashValid: false, problem: "misdirected", entry: undefined },
    ]);
    expect(res.text).not.toContain(secret);
    expect(res.text).not.toContain("203.0.113.9");
    // The create's own pointer still shows its entry.
    expect(rows.slice(2).some((row) => row.problem === undefined && row.hashValid)).toBe(true);
  });

  it("pointers aimed twice at one entry, at an entry not naming the client, at no entry or at no chain: the accounting still reads, each flagged", async () => {
    const org = `pointers-${randomUUID().slice(0, 8)}`;
    const writer = new ChainWriter();
    const principal = { userId: "u1", orgId: org, role: "coach" as const };
    const read = (clientId: string) =>
      writer.append(
        auditEntry(principal, meta, "client.read", { type: "client", id: clientId, clientId }, []),
      );
    const client = "c0";
    const [c0, c1] = [await read(client), await read("c1")];
    const partition = `ORG#${org}#DISCLOSED#${client}`;
    const pointer = (sk: string, target: Record<string, unknown>) =>
      put(getConfig().TABLE_RECORDS, { pk: partition, sk: `2999-01-01T00:00:00.000Z#${sk}`, ...target });
    await pointer("a-duplicate", { chain: c0.chain, seq: c0.seq });
    await pointer("b-duplicate", { chain: c0.chain, seq: c0.seq });
    await pointer("c-misdirected", { chain: c1.chain, seq: c1.seq });
    await pointer("d-missing", { chain: c0.chain, seq: 999 });
    await pointer("e-no-chain", { chain: 5, seq: "x" });
    const page = await queryDisclosures(org, client, { limit: 20 });
    const rows = page.items.map((row) => ({ seq: row.seq, hashValid: row.hashValid, problem: row.problem }));
    expect(rows).toEqual([
      { seq: 0, hashValid: false, problem: "misdirected" },
      { seq: 999, hashValid: false, problem: "missing" },
      { seq: c1.seq, hashValid: false, problem: "misdirected" },
      { seq: c0.seq, hashValid: true, problem: undefined },
      { seq: c0.seq, hashValid: true, problem: undefined },
      { seq: c0.seq, hashValid: true, problem: undefined }, // the pointer the append wrote
    ]);
  });
});
