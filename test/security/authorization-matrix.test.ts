import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { type Action, decide, type Relationship } from "../../shared/auth/policy";
import type { Role } from "../../shared/auth/roles";
import { settingsDocument } from "../../shared/settings";
import { assignableCoach, freshCoach, heldChange, settleInvitations } from "../support/people";
import { doneReportOf } from "../support/reports";
import {
  clearLimiterState,
  putOrgSettings,
  removeOrgSettings,
  SUITE_SETTINGS,
  settingsApply,
} from "../support/settings";
import { testStack } from "../support/stack";
import { forge } from "../support/tokens";

/**
 * The authorization matrix: every route of the manifest × every caller (each role, in each
 * relationship it can hold to a client, in the same org and in another) × no token / expired token,
 * each asserted against the answer the access policy gives. A route added to the manifest without an
 * entry below fails the first test.
 */
const stack = testStack();
const { api } = stack;

type Fixture = {
  clientId: string;
  sessionId: string;
  noteId: string;
  coachId: string;
  userId: string;
  changeId: string;
  /** A verification job of the demo org. */
  verificationJobId: string;
  /** The version of the caller's org's settings (what a PATCH /settings must name). */
  settingsVersion: number;
  /** A break-glass grant on the fixture client, pending review (when the entry asks for one). */
  grantId: string;
  /** A done compliance report of the demo org. */
  reportId: string;
};
/** `list`: allowed to every role of the route, answering only what the policy lets the caller see. */
type Scope = "public" | "org" | "list" | "client" | "org-resource";
type Entry = {
  scope: Scope;
  /** The policy action the route performs (none for public routes). */
  action?: Action;
  request: (f: Fixture) => { path: string; body?: unknown };
  /** Needs a transcript in the fixture's session. */
  transcript?: boolean;
  /** Needs a change held by the two-person rule (requested by a second admin, not by any caller). */
  change?: boolean;
  /** Needs a fresh coach of the org to change (`f.userId`). */
  targetUser?: boolean;
  /** Needs a break-glass grant pending review (`f.grantId`). */
  grant?: boolean;
};

let unique = 0;
const ENTRIES: Record<string, Entry> = {
  health: { scope: "public", request: () => ({ path: "/health" }) },
  openapi: { scope: "public", request: () => ({ path: "/openapi.json" }) },
  createClient: {
    scope: "org",
    action: "client:create",
    request: () => ({ path: "/clients", body: { name: "Matrix Client" } }),
  },
  listClients: { scope: "list", action: "client:list", request: () => ({ path: "/clients" }) },
  getClient: { scope: "client", action: "client:read", request: (f) => ({ path: `/clients/${f.clientId}` }) },
  updateClient: {
    scope: "client",
    action: "client:update",
    request: (f) => ({ path: `/clients/${f.clientId}`, body: { version: 1, phone: "+1 555 000 1111" } }),
  },
  inviteUser: {
    scope: "org",
    action: "user:manage",
    request: () => ({ path: "/users", body: { email: `matrix${unique++}@demo.example`, role: "coach" } }),
  },
  listUsers: { scope: "org", action: "user:read", request: () => ({ path: "/users" }) },
  listInvites: { scope: "org", action: "user:manage", request: () => ({ path: "/users/invites" }) },
  updateUser: {
    scope: "org-resource",
    action: "user:manage",
    targetUser: true,
    request: (f) => ({ path: `/users/${f.userId}`, body: { version: 1, role: "coach_lead" } }),
  },
  reassignClients: {
    scope: "org-resource",
    action: "user:manage",
    targetUser: true,
    request: (f) => ({ path: `/users/${f.userId}/reassign`, body: { toCoachId: f.coachId } }),
  },
  unblockUser: {
    scope: "org-resource",
    action: "user:manage",
    targetUser: true,
    request: (f) => ({ path: `/users/${f.userId}/block` }),
  },
  assignCoach: {
    scope: "client",
    action: "client:assign",
    request: (f) => ({ path: `/clients/${f.clientId}/coaches/${f.coachId}` }),
  },
  unassignCoach: {
    scope: "client",
    action: "client:assign",
    request: (f) => ({ path: `/clients/${f.clientId}/coaches/${f.coachId}` }),
  },
  listConsents: {
    scope: "client",
    action: "consent:read",
    request: (f) => ({ path: `/clients/${f.clientId}/consents` }),
  },
  grantConsent: {
    scope: "client",
    action: "consent:write",
    request: (f) => ({ path: `/clients/${f.clientId}/consents/research`, body: { version: "1" } }),
  },
  revokeConsent: {
    scope: "client",
    action: "consent:write",
    request: (f) => ({ path: `/clients/${f.clientId}/consents/research` }),
  },
  createSession: {
    scope: "client",
    action: "session:create",
    request: (f) => ({
      path: `/clients/${f.clientId}/sessions`,
      body: { startsAt: "2026-11-01T10:00:00Z", durationMinutes: 30, type: "coaching" },
    }),
  },
  listSessions: {
    scope: "client",
    action: "session:read",
    request: (f) => ({ path: `/clients/${f.clientId}/sessions` }),
  },
  getSession: {
    scope: "client",
    action: "session:read",
    request: (f) => ({ path: `/clients/${f.clientId}/sessions/${f.sessionId}` }),
  },
  uploadTranscript: {
    scope: "client",
    action: "transcript:upload",
    request: (f) => ({
      path: `/clients/${f.clientId}/sessions/${f.sessionId}/transcript`,
      body: { text: "Coach: How was the week, Ana Silva?" },
    }),
  },
  getTranscript: {
    scope: "client",
    action: "transcript:read",
    transcript: true,
    request: (f) => ({ path: `/clients/${f.clientId}/sessions/${f.sessionId}/transcript` }),
  },
  createNote: {
    scope: "client",
    action: "note:create",
    request: (f) => ({ path: `/clients/${f.clientId}/notes`, body: { text: "Matrix note" } }),
  },
  listNotes: {
    scope: "client",
    action: "note:read",
    request: (f) => ({ path: `/clients/${f.clientId}/notes` }),
  },
  updateNote: {
    scope: "client",
    action: "note:update",
    request: (f) => ({
      path: `/clients/${f.clientId}/notes/${f.noteId}`,
      body: { text: "Changed", version: 1 },
    }),
  },
  listAuditEntries: {
    scope: "org",
    action: "audit:read",
    request: (f) => ({ path: `/audit/entries?actorId=${f.coachId}&limit=5` }),
  },
  listDisclosures: {
    scope: "org-resource",
    action: "audit:read",
    request: (f) => ({ path: `/clients/${f.clientId}/disclosures?limit=5` }),
  },
  startAuditVerification: {
    scope: "org",
    action: "audit:verify",
    request: () => ({ path: "/audit/verify" }),
  },
  getAuditVerification: {
    scope: "org-resource",
    action: "audit:verify",
    request: (f) => ({ path: `/audit/verify/${f.verificationJobId}` }),
  },
  listChanges: { scope: "org", action: "change:list", request: () => ({ path: "/changes" }) },
  approveChange: {
    scope: "org-resource",
    action: "change:decide",
    change: true,
    request: (f) => ({ path: `/changes/${f.changeId}/approve` }),
  },
  rejectChange: {
    scope: "org-resource",
    action: "change:decide",
    change: true,
    request: (f) => ({ path: `/changes/${f.changeId}/reject` }),
  },
  getSettings: { scope: "org", action: "settings:read", request: () => ({ path: "/settings" }) },
  updateSettings: {
    scope: "org",
    action: "settings:write",
    // A change to nothing: allowed callers get 200 without changing what the other files of the run see.
    request: (f) => ({ path: "/settings", body: { version: f.settingsVersion, settings: {} } }),
  },
  reviewBreakGlass: {
    scope: "org-resource",
    action: "breakglass:review",
    grant: true,
    request: (f) => ({ path: `/break-glass/${f.grantId}/review`, body: { note: "Matrix review." } }),
  },
  listSecurityEvents: {
    scope: "org",
    action: "security:read",
    request: () => ({ path: "/security/events" }),
  },
  listReports: { scope: "org", action: "report:read", request: () => ({ path: "/reports" }) },
  requestReport: { scope: "org", action: "report:request", request: () => ({ path: "/reports" }) },
  // The demo org's report: another org's caller learns nothing of it (404).
  getReport: {
    scope: "org-resource",
    action: "report:read",
    request: (f) => ({ path: `/reports/${f.reportId}` }),
  },
  getReportHtml: {
    scope: "org-resource",
    action: "report:read",
    request: (f) => ({ path: `/reports/${f.reportId}/html` }),
  },
  requestBreakGlass: {
    scope: "client",
    action: "breakglass:request",
    request: (f) => ({
      path: `/clients/${f.clientId}/break-glass`,
      body: { reason: "Matrix test: emergency access request." },
    }),
  },
};

/** A caller and the relationship they hold to the fixture client (`owner` is who the client is assigned to). */
type Caller = { email: string; role: Role; relationship: Relationship | "other-org"; owner: string };
const CALLERS: Caller[] = [
  { email: "coach1@demo.example", role: "coach", relationship: "assigned", owner: "coach1@demo.example" },
  { email: "coach2@demo.example", role: "coach", relationship: "none", owner: "coach1@demo.example" },
  { email: "lead@demo.example", role: "coach_lead", relationship: "assigned", owner: "lead@demo.example" },
  {
    email: "lead@demo.example",
    role: "coach_lead",
    relationship: "lead_of_assigned",
    owner: "coach1@demo.example",
  },
  { email: "lead@demo.example", role: "coach_lead", relationship: "none", owner: "coach2@demo.example" },
  {
    email: "lead@demo.example",
    role: "coach_lead",
    relationship: "break_glass",
    owner: "coach2@demo.example",
  },
  { email: "admin@demo.example", role: "admin", relationship: "none", owner: "coach1@demo.example" },
  { email: "admin@demo.example", role: "admin", relationship: "break_glass", owner: "coach1@demo.example" },
  {
    email: "compliance@demo.example",
    role: "compliance_officer",
    relationship: "none",
    owner: "coach1@demo.example",
  },
  { email: "coach@other.example", role: "coach", relationship: "other-org", owner: "coach1@demo.example" },
  { email: "admin@other.example", role: "admin", relationship: "other-org", owner: "coach1@demo.example" },
  {
    email: "compliance@other.example",
    role: "compliance_officer",
    relationship: "other-org",
    owner: "coach1@demo.example",
  },
];

const held = (relationship: Relationship): Relationship[] =>
  relationship === "none" ? ["none"] : [relationship, "none"];

/** The answer the policy gives: allowed → the route's success status; else 403 if the caller may know the client exists, 404 if not. */
function expected(route: (typeof routeList)[number], entry: Entry, caller: Caller): number {
  const success = Number(Object.keys(route.responses).find((status) => status.startsWith("2")));
  if (entry.scope === "public") return success;
  if (!route.roles.includes(caller.role)) return 403;
  const action = entry.action as Action;
  if (entry.scope === "list") return success;
  if (entry.scope === "org") return decide(caller, action, "none").allow ? success : 403;
  if (caller.relationship === "other-org") return 404;
  if (entry.scope === "org-resource") return decide(caller, action, "none").allow ? success : 403;
  const relationships = held(caller.relationship);
  if (caller.relationship === "break_glass" && action === "breakglass:request") return 409; // a grant is already active
  if (relationships.some((relationship) => decide(caller, action, relationship).allow)) return success;
  return relationships.some((relationship) => decide(caller, "client:read", relationship).allow) ? 403 : 404;
}

const orgOf = (caller: Caller) => stack.users.find((user) => user.email === caller.email)?.orgId as string;

const tokens = new Map<string, string>();
const token = async (email: string) => {
  if (!tokens.has(email)) tokens.set(email, await stack.token(email));
  return tokens.get(email) as string;
};

/** A fresh client for one cell: consents, a session, a note, optionally a transcript; a grant where the cell needs one. */
async function fixture(caller: Caller, entry: Entry): Promise<Fixture> {
  const owner = await token(caller.owner);
  const { clientId, sessionId, noteId } = await stack.clientWithRecords(owner, "Matrix Fixture", [
    "coaching",
    "ai_processing",
    "research",
  ]);
  if (entry.transcript) {
    await api("PUT", `/clients/${clientId}/sessions/${sessionId}/transcript`, {
      token: owner,
      body: { text: "Hi Ana Silva." },
    });
  }
  let grantId = "";
  if (caller.relationship === "break_glass" || entry.grant) {
    // The cell's own grant where it needs one; else one of the demo admin's (a fresh client: never active yet).
    const granted = await api("POST", `/clients/${clientId}/break-glass`, {
      token: await token(caller.relationship === "break_glass" ? caller.email : "admin@demo.example"),
      body: { reason: "Matrix fixture: emergency access for this cell." },
    });
    expect(granted.status).toBe(201);
    grantId = granted.json.grantId;
  }
  const userId = entry.targetUser ? await freshCoach(stack) : "";
  const changeId = entry.change ? await heldChange(stack, clientId) : "";
  return {
    clientId,
    sessionId,
    noteId,
    coachId: await assignableCoach(stack),
    userId,
    changeId,
    verificationJobId: await demoVerificationJob(),
    settingsVersion: (await settingsDocument(orgOf(caller))).version,
    grantId,
    reportId: await doneReportOf("demo"),
  };
}

let verificationJob: Promise<string> | undefined;
function demoVerificationJob(): Promise<string> {
  verificationJob ??= token("admin@demo.example").then(
    async (admin) => (await api("GET", "/audit/verify", { token: admin })).json.jobId as string,
  );
  return verificationJob;
}

// The other org's callers are refused by design, many times over: not toward a block here (the suite's
// orgs run with the same settings; the limits tests cover blocking).
beforeAll(async () => {
  await putOrgSettings("other", SUITE_SETTINGS);
  await settingsApply();
});

// Invitations made by the cells are processed out of band: let them finish before the next file runs.
afterAll(async () => {
  for (const email of ["admin@demo.example", "admin@other.example"])
    await settleInvitations(api, await token(email));
  await removeOrgSettings("other");
  // Its denials were strikes all the same: none may carry over into a block under the default thresholds.
  await clearLimiterState("other");
});

describe("authorization matrix", () => {
  it("has an entry for every route in the manifest", () => {
    expect(routeList.map((route) => route.id).filter((id) => !ENTRIES[id])).toEqual([]);
  });

  for (const route of routeList) {
    const entry = ENTRIES[route.id] as Entry;
    if (!entry) continue;
    describe(`${route.method} ${route.path}`, () => {
      it.each(CALLERS)("$role ($relationship) via $email", async (caller) => {
        const f = await fixture(caller, entry);
        const { path, body } = entry.request(f);
        const res = await api(route.method, path, {
          token: await token(caller.email),
          ...(body !== undefined && { body }),
        });
        expect(res.status, res.text.slice(0, 200)).toBe(expected(route, entry, caller));
      });

      if (entry.scope !== "public") {
        it("without a token → 401; with an expired token → 401", async () => {
          const f = await fixture(CALLERS[0] as Caller, entry);
          const { path, body } = entry.request(f);
          const none = await api(route.method, path, body !== undefined ? { body } : {});
          expect(none.status).toBe(401);
          const expired = await forge(await token("coach1@demo.example"), {
            exp: Math.floor(Date.now() / 1000) - 60,
          });
          const late = await api(route.method, path, { token: expired, ...(body !== undefined && { body }) });
          expect(late.status).toBe(401);
        });
      }
    });
  }
});
