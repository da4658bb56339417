import { beforeAll, describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { phiFieldsIn, queryEntries } from "../../shared/audit";
import { testStack } from "../support/stack";

/**
 * Generated from the manifest: for every route, a request that succeeds; the audit entry it committed
 * (found by its request id) names exactly the PHI fields the response carried plus those the request
 * wrote, as the route's `phi` declaration maps them. A route whose answer carries a fixture's PHI value
 * without declaring `phi.discloses` fails too, so a new route cannot slip past unaudited.
 */
const stack = testStack();
const { api } = stack;
const idOf = (email: string) => stack.users.find((u) => u.email === email)?.userId as string;

const TRANSCRIPT = "Coach: Good morning Quentin Marlowe, how did the week go?\nClient: Better, thanks.";
const NAME = "Quentin Marlowe";
type Fixture = { clientId: string; sessionId: string; noteId: string };
type Request = { path: string; body?: unknown; as: string };

/** One request per route (and per caller where the answer differs by relationship). */
const REQUESTS: Record<string, (f: Fixture) => Request[]> = {
  health: () => [{ path: "/health", as: "coach1@demo.example" }],
  openapi: () => [{ path: "/openapi.json", as: "coach1@demo.example" }],
  createClient: () => [
    { path: "/clients", body: { name: NAME, dateOfBirth: "1980-02-03" }, as: "coach1@demo.example" },
  ],
  listClients: () => [
    { path: "/clients?limit=5", as: "coach1@demo.example" },
    { path: "/clients?limit=5", as: "lead@demo.example" },
    { path: "/clients?limit=5", as: "admin@demo.example" },
  ],
  getClient: (f) =>
    ["coach1@demo.example", "lead@demo.example", "admin@demo.example"].map((as) => ({
      path: `/clients/${f.clientId}`,
      as,
    })),
  updateClient: (f) => [
    // A status-only change: the answer still carries the record's PHI, so the entry must name it.
    { path: `/clients/${f.clientId}`, body: { version: 2, status: "paused" }, as: "coach1@demo.example" },
  ],
  inviteUser: () => [
    {
      path: "/users",
      body: { email: `disclosure${Date.now()}@demo.example`, role: "coach" },
      as: "admin@demo.example",
    },
  ],
  listUsers: () => [{ path: "/users", as: "admin@demo.example" }],
  updateUser: () => [
    {
      path: `/users/${idOf("coach2@demo.example")}`,
      body: { version: 1, leadId: null },
      as: "admin@demo.example",
    },
  ],
  reassignClients: () => [
    {
      path: `/users/${idOf("coach2@demo.example")}/reassign`,
      body: { toCoachId: idOf("coach2@demo.example") },
      as: "admin@demo.example",
    },
  ],
  assignCoach: (f) => [
    { path: `/clients/${f.clientId}/coaches/${idOf("coach2@demo.example")}`, as: "admin@demo.example" },
  ],
  unassignCoach: (f) => [
    { path: `/clients/${f.clientId}/coaches/${idOf("coach2@demo.example")}`, as: "admin@demo.example" },
  ],
  listConsents: (f) =>
    ["coach1@demo.example", "lead@demo.example", "admin@demo.example"].map((as) => ({
      path: `/clients/${f.clientId}/consents`,
      as,
    })),
  grantConsent: (f) => [
    { path: `/clients/${f.clientId}/consents/research`, body: { version: "2" }, as: "coach1@demo.example" },
  ],
  revokeConsent: (f) => [{ path: `/clients/${f.clientId}/consents/research`, as: "coach1@demo.example" }],
  createSession: (f) => [
    {
      path: `/clients/${f.clientId}/sessions`,
      body: { startsAt: "2026-11-02T09:00:00Z", durationMinutes: 45, type: "coaching" },
      as: "coach1@demo.example",
    },
  ],
  listSessions: (f) =>
    ["coach1@demo.example", "lead@demo.example"].map((as) => ({
      path: `/clients/${f.clientId}/sessions`,
      as,
    })),
  getSession: (f) =>
    ["coach1@demo.example", "lead@demo.example"].map((as) => ({
      path: `/clients/${f.clientId}/sessions/${f.sessionId}`,
      as,
    })),
  uploadTranscript: (f) => [
    {
      path: `/clients/${f.clientId}/sessions/${f.sessionId}/transcript`,
      body: { text: TRANSCRIPT },
      as: "coach1@demo.example",
    },
  ],
  getTranscript: (f) =>
    ["coach1@demo.example", "lead@demo.example"].map((as) => ({
      path: `/clients/${f.clientId}/sessions/${f.sessionId}/transcript`,
      as,
    })),
  createNote: (f) => [
    { path: `/clients/${f.clientId}/notes`, body: { text: `Met ${NAME}` }, as: "coach1@demo.example" },
  ],
  listNotes: (f) =>
    ["coach1@demo.example", "lead@demo.example"].map((as) => ({ path: `/clients/${f.clientId}/notes`, as })),
  updateNote: (f) => [
    {
      path: `/clients/${f.clientId}/notes/${f.noteId}`,
      body: { text: `Called ${NAME}`, version: 1 },
      as: "coach1@demo.example",
    },
  ],
  requestBreakGlass: (f) => [
    {
      path: `/clients/${f.clientId}/break-glass`,
      body: { reason: "Disclosure test: emergency access to this client." },
      as: "admin@demo.example",
    },
  ],
  listAuditEntries: () => [{ path: "/audit/entries?limit=5", as: "compliance@demo.example" }],
  listDisclosures: (f) => [
    { path: `/clients/${f.clientId}/disclosures?limit=5`, as: "compliance@demo.example" },
  ],
  verifyAudit: () => [{ path: "/audit/verify", as: "admin@demo.example" }],
};

const tokens = new Map<string, Promise<string>>();
const token = (email: string) => {
  if (!tokens.has(email)) tokens.set(email, stack.token(email));
  return tokens.get(email) as Promise<string>;
};

/** A client of coach1 (on the lead's team) with consents, a session, a note, a transcript and more PHI (version 2). */
async function fixture(): Promise<Fixture> {
  const owner = await token("coach1@demo.example");
  const created = await stack.clientWithRecords(owner, NAME, ["coaching", "ai_processing", "research"]);
  const transcript = await api(
    "PUT",
    `/clients/${created.clientId}/sessions/${created.sessionId}/transcript`,
    {
      token: owner,
      body: { text: TRANSCRIPT },
    },
  );
  const patched = await api("PATCH", `/clients/${created.clientId}`, {
    token: owner,
    body: { version: 1, email: "quentin@patients.example", conditions: ["asthma"] },
  });
  expect([transcript.status, patched.status]).toEqual([200, 200]);
  return created;
}

async function entryFor(email: string, requestId: string) {
  const actorId = idOf(email);
  const orgId = stack.users.find((u) => u.email === email)?.orgId as string;
  const page = await queryEntries(orgId, { actorId, limit: 100 });
  return page.items.map((found) => found.entry).filter((entry) => entry?.requestId === requestId);
}

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});

describe("audit entries name exactly the PHI disclosed and written", () => {
  it("has a request for every route in the manifest", () => {
    expect(routeList.map((route) => route.id).filter((id) => !REQUESTS[id])).toEqual([]);
  });

  for (const route of routeList) {
    it(`${route.method} ${route.path}`, async () => {
      for (const request of (REQUESTS[route.id] as (f: Fixture) => Request[])(f)) {
        const res = await api(route.method, request.path, {
          token: await token(request.as),
          ...(request.body !== undefined && { body: request.body }),
        });
        expect(res.status, `${request.as}: ${res.text.slice(0, 200)}`).toBeLessThan(300);
        if (!route.phi?.discloses) {
          expect(res.text, `${route.id} answers PHI but declares no phi.discloses`).not.toContain(NAME);
          expect(res.text).not.toContain("Good morning");
        }
        const expected = [
          ...new Set([
            ...phiFieldsIn(route.phi?.writes, request.body),
            ...phiFieldsIn(route.phi?.discloses, res.json),
          ]),
        ].sort();
        if (!route.phi) continue;
        const entries = await entryFor(request.as, String(res.headers["x-request-id"]));
        if (expected.length === 0) {
          expect(
            entries.flatMap((entry) => entry?.fields ?? []),
            `${request.as}`,
          ).toEqual([]);
          continue;
        }
        expect(entries, `${request.as}: one audit entry for the request`).toHaveLength(1);
        expect(entries[0]?.fields, `${request.as}`).toEqual(expected);
      }
    });
  }
});
