import { beforeAll, describe, expect, it } from "vitest";
import { testStack } from "../support/stack";

/**
 * Reading the audit trail over HTTPS: a client's accounting of disclosures and the org-wide query for
 * compliance officers (no PHI, paginated, itself audited), and the admin's verification route.
 */
const stack = testStack();
const { api } = stack;
const idOf = (email: string) => stack.users.find((u) => u.email === email)?.userId as string;

type Found = {
  chain: string;
  seq: number;
  hash: string;
  hashValid: boolean;
  entry: {
    time: string;
    action: string;
    actor: { id: string; role: string };
    fields: string[];
    breakGlass: boolean;
    basis: string[];
    resource: { clientId?: string; clientIds?: string[]; id: string };
  };
};

const NAME = "Disclosure Subject Quintana";
let coach1: string;
let lead: string;
let admin: string;
let compliance: string;
let clientId: string;
let started: string;

/** Pages through the caller's client list until the page that shows `id` (each page is one audited list). */
async function listUntilSeen(token: string, id: string) {
  let cursor: string | undefined;
  do {
    const page = await api(
      "GET",
      `/clients?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      {
        token,
      },
    );
    if (page.json.items.some((item: { clientId: string }) => item.clientId === id)) return;
    cursor = page.json.nextCursor;
  } while (cursor);
  throw new Error("client not in the list");
}

beforeAll(async () => {
  [coach1, lead, admin, compliance] = (await Promise.all(
    ["coach1@demo.example", "lead@demo.example", "admin@demo.example", "compliance@demo.example"].map((e) =>
      stack.token(e),
    ),
  )) as [string, string, string, string];
  started = new Date().toISOString();
  clientId = (
    await api("POST", "/clients", { token: coach1, body: { name: NAME, phone: "+1 555 010 2020" } })
  ).json.clientId;
  await api("GET", `/clients/${clientId}`, { token: coach1 });
  await api("GET", `/clients/${clientId}`, { token: lead }); // lead of coach1's team
  await listUntilSeen(coach1, clientId); // a list page that discloses this client among others
  await api("POST", `/clients/${clientId}/break-glass`, {
    token: admin,
    body: { reason: "Audit test: emergency access needed." },
  });
  await api("GET", `/clients/${clientId}`, { token: admin }); // under the grant
});

async function allPages(path: string, token: string, limit: number): Promise<Found[]> {
  const items: Found[] = [];
  let cursor: string | undefined;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const res = await api(
      "GET",
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      { token },
    );
    expect(res.status, res.text).toBe(200);
    items.push(...res.json.items);
    cursor = res.json.nextCursor;
  } while (cursor);
  return items;
}

describe("accounting of disclosures", () => {
  it("lists every access to the client — who, when, what, on what basis, break-glass — newest first, without PHI", async () => {
    const res = await api("GET", `/clients/${clientId}/disclosures`, { token: compliance });
    expect(res.status).toBe(200);
    const items = res.json.items as Found[];
    const summary = items.map((i) => [i.entry.action, i.entry.actor.id, i.entry.basis, i.entry.breakGlass]);
    expect(summary).toEqual([
      ["client.read", idOf("admin@demo.example"), ["break_glass"], true],
      ["breakglass.grant", idOf("admin@demo.example"), ["break_glass"], true],
      ["client.list", idOf("coach1@demo.example"), ["assigned"], false],
      ["client.read", idOf("lead@demo.example"), ["lead_of_assigned"], false],
      ["client.read", idOf("coach1@demo.example"), ["assigned"], false],
      ["client.create", idOf("coach1@demo.example"), ["none"], false],
    ]);
    expect(items.every((i) => i.hashValid)).toBe(true);
    expect(items[3]?.entry.fields).toEqual(["name", "phone"]);
    const times = items.map((i) => i.entry.time);
    expect([...times].sort().reverse()).toEqual(times);
    expect(res.text).not.toContain("Quintana");
    expect(res.text).not.toContain("555 010");
  });

  it("pages with an opaque cursor: every entry once, none twice", async () => {
    const paged = await allPages(`/clients/${clientId}/disclosures`, compliance, 2);
    const whole = (await api("GET", `/clients/${clientId}/disclosures`, { token: compliance })).json
      .items as Found[];
    expect(paged.map((i) => `${i.chain}#${i.seq}`)).toEqual(whole.map((i) => `${i.chain}#${i.seq}`));
    expect(paged.length).toBeGreaterThanOrEqual(6);
  });

  it("narrows to a time range", async () => {
    const res = await api("GET", `/clients/${clientId}/disclosures?from=2000-01-01T00:00:00Z&to=${started}`, {
      token: compliance,
    });
    expect(res.status).toBe(200);
    expect(res.json.items).toEqual([]);
  });

  it("is audited itself, without showing up in the client's own accounting", async () => {
    const before = (await api("GET", `/clients/${clientId}/disclosures`, { token: compliance })).json.items;
    const again = (await api("GET", `/clients/${clientId}/disclosures`, { token: compliance })).json.items;
    expect(again).toEqual(before);
    const own = await api(
      "GET",
      `/audit/entries?actorId=${idOf("compliance@demo.example")}&action=audit.disclosures`,
      {
        token: compliance,
      },
    );
    expect(own.json.items.length).toBeGreaterThanOrEqual(2);
    expect(own.json.items[0].entry.resource).toEqual({ type: "disclosures", id: clientId });
  });

  it("answers 404 for a client that neither exists nor has an accounting", async () => {
    const res = await api("GET", "/clients/00000000-0000-4000-8000-000000000000/disclosures", {
      token: compliance,
    });
    expect(res.status).toBe(404);
  });
});

describe("org-wide audit query", () => {
  it("filters by user, action and time, newest first, and every page is audited", async () => {
    const coach = idOf("coach1@demo.example");
    const queried = new Date().toISOString();
    const reads = await allPages(
      `/audit/entries?actorId=${coach}&action=client.read&from=${started}`,
      compliance,
      3,
    );
    expect(reads.length).toBeGreaterThanOrEqual(1);
    for (const found of reads) {
      expect(found.entry.actor.id).toBe(coach);
      expect(found.entry.action).toBe("client.read");
      expect(found.entry.time >= started).toBe(true);
    }
    // Other test files query as the same officer meanwhile: pick this test's entries out by their filter.
    const mine = await allPages(
      `/audit/entries?actorId=${idOf("compliance@demo.example")}&action=audit.query&from=${queried}`,
      compliance,
      50,
    );
    const times = mine.map((found) => found.entry.time);
    expect(times).toEqual([...times].sort().reverse());
    const forCoach = mine.filter((found) => found.entry.resource.id === coach);
    expect(forCoach.length).toBeGreaterThanOrEqual(Math.ceil(reads.length / 3));
  });

  it("without a user, lists the whole org by time (action filter keeps pages full)", async () => {
    const res = await api("GET", `/audit/entries?action=breakglass.grant&from=${started}&limit=1`, {
      token: compliance,
    });
    expect(res.status).toBe(200);
    expect(res.json.items).toHaveLength(1);
    expect(res.json.items[0].entry.resource.clientId).toBe(clientId);
  });

  it("refuses bad queries with a clear 400 and no echo", async () => {
    for (const query of [
      "from=yesterday",
      "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
      "action=DROP%20TABLE",
      "actorId=%3Cscript%3E",
      "limit=0",
      "limit=101",
      "extra=1",
      "cursor=%7B%7D",
      "cursor=not-base64-json",
    ]) {
      const res = await api("GET", `/audit/entries?${query}`, { token: compliance });
      expect(res.status, query).toBe(400);
      expect(res.text).not.toContain("script");
      expect(res.text).not.toContain("DROP");
    }
  });

  it("is closed to everyone but compliance officers, and shows them no client record", async () => {
    for (const token of [coach1, lead, admin]) {
      expect((await api("GET", "/audit/entries", { token })).status).toBe(403);
    }
    expect((await api("GET", `/clients/${clientId}`, { token: compliance })).status).toBe(403);
    expect((await api("GET", "/clients", { token: compliance })).status).toBe(403);
  });
});

describe("verification job", () => {
  /** Polls a job's status route until the job is no longer running. */
  async function finished(statusPath: string) {
    for (let attempt = 0; attempt < 120; attempt++) {
      const status = await api("GET", statusPath, { token: admin });
      expect(status.status, status.text).toBe(200);
      if (status.json.state !== "running") return status.json;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error("verification did not finish");
  }

  it("starts with 202, a job id and a Location; the status route shows progress, then the report", async () => {
    const started = await api("GET", "/audit/verify?from=genesis", { token: admin });
    expect(started.status, started.text).toBe(202);
    expect(started.json).toMatchObject({
      state: "running",
      from: "genesis",
      progress: { entriesVerified: 0 },
    });
    const { jobId } = started.json;
    expect(started.headers.location).toBe(`verify/${jobId}`);
    const statusPath = new URL(String(started.headers.location), `${stack.endpoints.apiUrl}/audit/verify`)
      .pathname;
    expect(statusPath).toBe(`/audit/verify/${jobId}`);
    const done = await finished(statusPath);
    expect(done).toMatchObject({
      jobId,
      state: "done",
      report: { orgId: "demo", intact: true, fromCheckpoint: 0 },
    });
    expect(done.report.entries).toBeGreaterThan(0);
    expect(done.progress).toMatchObject({
      entriesVerified: done.report.entries,
      chainsDone: done.report.chains.length,
    });
    expect(done.finishedAt >= done.createdAt).toBe(true);

    const latest = await api("GET", "/audit/verify", { token: admin }); // from the latest checkpoint by default
    expect(latest.status).toBe(202);
    expect(latest.json.from).toBe("latest");
    expect((await finished(`/audit/verify/${latest.json.jobId}`)).report.intact).toBe(true);
  });

  it("refuses an unknown checkpoint at once, a bad query, other roles and other orgs", async () => {
    const missing = await api("GET", "/audit/verify?from=999999", { token: admin });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("CHECKPOINT_NOT_FOUND");
    expect((await api("GET", "/audit/verify?from=first", { token: admin })).status).toBe(400);
    expect((await api("GET", "/audit/verify", { token: compliance })).status).toBe(403);
    const { jobId } = (await api("GET", "/audit/verify", { token: admin })).json;
    expect((await api("GET", `/audit/verify/${jobId}`, { token: compliance })).status).toBe(403);
    const otherAdmin = await stack.token("admin@other.example");
    expect((await api("GET", `/audit/verify/${jobId}`, { token: otherAdmin })).status).toBe(404);
    expect(
      (await api("GET", "/audit/verify/00000000-0000-4000-8000-000000000000", { token: admin })).status,
    ).toBe(404);
    expect((await api("GET", "/audit/verify/not-a-job", { token: admin })).status).toBe(400);
  });

  it("starting a job and reading its status are audited, naming the job", async () => {
    const { jobId } = (await api("GET", "/audit/verify", { token: admin })).json;
    await api("GET", `/audit/verify/${jobId}`, { token: admin });
    const own = async (action: string) =>
      (
        await api("GET", `/audit/entries?actorId=${idOf("admin@demo.example")}&action=${action}&limit=5`, {
          token: compliance,
        })
      ).json.items as Found[];
    expect((await own("audit.verify"))[0]?.entry.resource).toEqual({ type: "audit-verification", id: jobId });
    expect((await own("audit.verify-status"))[0]?.entry.resource).toEqual({
      type: "audit-verification",
      id: jobId,
    });
  });
});

describe("an honest request with a very long User-Agent (review-3 H3)", () => {
  it("succeeds, and its entry holds the agent cut to fit the entry schema: it parses and its hash matches", async () => {
    const agent = `LongAgent/${"x".repeat(4000)}`;
    const from = new Date().toISOString();
    const read = await api("GET", `/clients/${clientId}`, {
      token: coach1,
      headers: { "user-agent": agent },
    });
    expect(read.status, read.text).toBe(200);
    const reads = await allPages(
      `/audit/entries?actorId=${idOf("coach1@demo.example")}&action=client.read&from=${from}`,
      compliance,
      50,
    );
    const withAgent = reads.filter((found) =>
      (found.entry as Found["entry"] & { userAgent?: string })?.userAgent?.startsWith("LongAgent/"),
    );
    expect(withAgent).toHaveLength(1);
    expect(withAgent[0]?.hashValid).toBe(true);
  });
});
