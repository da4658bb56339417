import { beforeAll, describe, expect, it } from "vitest";
import { verifyOrg } from "../../shared/audit";
import { testStack } from "../support/stack";
import { clientState, inconsistencies } from "./state";

/**
 * Concurrent writes through the API to one record, one client, one session and one note. Whatever the
 * interleaving, the end state is one a serial order of the requests that succeeded would give: one
 * winner per version, nothing lost, nothing half-written, every success audited exactly once, and the
 * audit chains still verify.
 */
const stack = testStack();
const { api } = stack;
const ORG = "demo";
const idOf = (email: string) => stack.users.find((u) => u.email === email)?.userId as string;
let coach1: string;
let lead: string;
let admin: string;

beforeAll(async () => {
  [coach1, lead, admin] = (await Promise.all(
    ["coach1@demo.example", "lead@demo.example", "admin@demo.example"].map((email) => stack.token(email)),
  )) as [string, string, string];
});

const statuses = (results: readonly { status: number }[]) => results.map((r) => r.status).sort();
const requestIdsOf = (results: readonly { status: number; headers: Record<string, unknown> }[]) =>
  results.filter((r) => r.status < 300).map((r) => String(r.headers["x-request-id"]));

/** The fixture's own audited requests since `before` (entries naming the client). */
async function auditedSince(clientId: string, before: readonly string[]) {
  const after = (await clientState(ORG, clientId)).auditedRequests;
  const earlier = new Set(before);
  return after.filter((id) => !earlier.has(id));
}

describe("concurrent writes end in a serial outcome", () => {
  it("one client record: of 8 PATCHes of one version exactly one wins, and it is what is stored", async () => {
    const { clientId } = await stack.clientWithRecords(coach1, "Concurrent Record", ["coaching"]);
    const before = (await clientState(ORG, clientId)).auditedRequests;
    const phones = Array.from({ length: 8 }, (_, i) => `+1 555 010 00${String(i).padStart(2, "0")}`);
    const results = await Promise.all(
      phones.map((phone) =>
        api("PATCH", `/clients/${clientId}`, { token: coach1, body: { version: 1, phone } }),
      ),
    );
    expect(statuses(results)).toEqual([200, ...Array(7).fill(409)]);
    const winner = results.find((r) => r.status === 200);
    const read = await api("GET", `/clients/${clientId}`, { token: coach1 });
    expect(read.json).toMatchObject({ version: 2, phone: winner?.json.phone });
    for (const loser of results.filter((r) => r.status === 409))
      expect(loser.json.error.code).toBe("VERSION_CONFLICT");
    // The winner's update, and the read just made: nothing from a loser.
    const audited = await auditedSince(clientId, before);
    expect(audited).toEqual(expect.arrayContaining(requestIdsOf(results)));
    expect(audited).toHaveLength(2);
  });

  it("one client's coach list: parallel assigns and unassigns never disagree with the assignment items", async () => {
    const { clientId } = await stack.clientWithRecords(coach1, "Concurrent Coaches", ["coaching"]);
    const coach2 = idOf("coach2@demo.example");
    const leadId = idOf("lead@demo.example");
    const results = await Promise.all([
      api("PUT", `/clients/${clientId}/coaches/${coach2}`, { token: admin }),
      api("PUT", `/clients/${clientId}/coaches/${leadId}`, { token: admin }),
      api("PUT", `/clients/${clientId}/coaches/${coach2}`, { token: admin }),
      api("DELETE", `/clients/${clientId}/coaches/${leadId}`, { token: admin }),
    ]);
    for (const result of results) {
      expect([200, 409]).toContain(result.status);
      if (result.status === 409) expect(result.json.error.code).toBe("ASSIGNMENT_CONFLICT");
    }
    const state = await clientState(ORG, clientId);
    expect(inconsistencies(state)).toEqual([]);
    // The final list is the answer of one of the successful requests (the last to commit).
    const client = state.records.find((item) => String(item.sk).startsWith("CLIENT#"));
    const final = [...((client?.coaches as string[] | undefined) ?? [])].sort();
    const answers = results.filter((r) => r.status === 200).map((r) => [...r.json.coaches].sort().join());
    expect(answers).toContain(final.join());
  });

  it("one note: of 6 updates of one version exactly one wins; the history holds versions 1 and 2 only", async () => {
    const { clientId, noteId } = await stack.clientWithRecords(coach1, "Concurrent Note", ["coaching"]);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api("PATCH", `/clients/${clientId}/notes/${noteId}`, {
          token: coach1,
          body: { text: `Revision ${i}`, version: 1 },
        }),
      ),
    );
    expect(statuses(results)).toEqual([200, ...Array(5).fill(409)]);
    const winner = results.find((r) => r.status === 200);
    const notes = await api("GET", `/clients/${clientId}/notes`, { token: coach1 });
    expect(notes.json.items).toEqual([
      expect.objectContaining({ noteId, version: 2, text: winner?.json.text }),
    ]);
    const history = (await clientState(ORG, clientId)).records.filter((item) =>
      String(item.sk).startsWith(`NOTEV#${clientId}#${noteId}`),
    );
    expect(history.map((item) => item.version).sort()).toEqual([1, 2]);
  });

  it("one client, many new records at once: every session and note is kept and audited once", async () => {
    const { clientId } = await stack.clientWithRecords(coach1, "Concurrent Writes", ["coaching"]);
    const before = (await clientState(ORG, clientId)).auditedRequests;
    const results = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) =>
        api("POST", `/clients/${clientId}/sessions`, {
          token: coach1,
          body: { startsAt: `2026-11-1${i}T09:00:00Z`, durationMinutes: 30, type: "coaching" },
        }),
      ),
      ...Array.from({ length: 6 }, (_, i) =>
        api("POST", `/clients/${clientId}/notes`, { token: coach1, body: { text: `Parallel note ${i}` } }),
      ),
    ]);
    expect(statuses(results)).toEqual(Array(12).fill(201));
    const state = await clientState(ORG, clientId);
    expect(state.records.filter((item) => String(item.sk).startsWith(`SESSION#${clientId}#`))).toHaveLength(
      7,
    );
    expect(state.records.filter((item) => String(item.sk).startsWith(`NOTE#${clientId}#`))).toHaveLength(7);
    expect((await auditedSince(clientId, before)).sort()).toEqual(requestIdsOf(results).sort());
  });

  it("one consent: of parallel grants and revokes each success builds on the one before (no lost update)", async () => {
    const { clientId } = await stack.clientWithRecords(coach1, "Concurrent Consent", ["coaching"]);
    const before = (await clientState(ORG, clientId)).auditedRequests;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2
          ? api("DELETE", `/clients/${clientId}/consents/research`, { token: coach1 })
          : api("PUT", `/clients/${clientId}/consents/research`, {
              token: coach1,
              body: { version: `v${i}` },
            }),
      ),
    );
    for (const result of results) {
      expect([200, 409]).toContain(result.status);
      if (result.status === 409) expect(result.json.error.code).toBe("WRITE_CONFLICT");
    }
    const succeeded = results.filter((r) => r.status === 200);
    const stored = (await clientState(ORG, clientId)).records.find(
      (item) => item.sk === `CONSENT#${clientId}#research`,
    );
    // Every success was written over the state the previous success left: the count says none was lost.
    expect(stored?.revision).toBe(succeeded.length);
    expect(succeeded.map((r) => JSON.stringify([r.json.status, r.json.version]))).toContain(
      JSON.stringify([stored?.status, stored?.version]),
    );
    expect((await auditedSince(clientId, before)).sort()).toEqual(requestIdsOf(results).sort());
  });

  it("one client, parallel break-glass requests by one lead: exactly one grant", async () => {
    const { clientId } = await stack.clientWithRecords(
      await stack.token("coach2@demo.example"),
      "Concurrent Grant",
      ["coaching"],
    );
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        api("POST", `/clients/${clientId}/break-glass`, {
          token: lead,
          body: { reason: "Concurrency test: urgent access to this client." },
        }),
      ),
    );
    expect(statuses(results)).toEqual([201, 409, 409, 409, 409]);
    for (const loser of results.filter((r) => r.status === 409))
      expect(loser.json.error.code).toBe("BREAK_GLASS_ACTIVE");
  });

  it("and the org's audit chains still verify", async () => {
    const verification = await verifyOrg(ORG, "genesis");
    expect(verification.intact, JSON.stringify(verification.entryProblem ?? verification.indexProblem)).toBe(
      true,
    );
  });
});
