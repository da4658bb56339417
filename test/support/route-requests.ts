import { expect } from "vitest";
import { type SettingsDocument, settingsDocument } from "../../shared/settings";
import { assignableCoach, freshCoach, heldChange, secondAdminToken } from "./people";
import { doneReportOf } from "./reports";
import type { testStack } from "./stack";

/**
 * One request per route of the manifest (and per caller where the answer differs by relationship),
 * against a fixture client: what the suites generated from the manifest (audit disclosure, fault
 * injection, …) send. A route added to the manifest without an entry here fails those suites.
 */
type Stack = ReturnType<typeof testStack>;
export const FIXTURE_TRANSCRIPT =
  "Coach: Good morning Quentin Marlowe, how did the week go?\nClient: Better, thanks.";
export const FIXTURE_NAME = "Quentin Marlowe";
/** Every PHI value a rich fixture holds (as it would appear in a JSON answer): none may leave undeclared. */
export const FIXTURE_PHI = [
  FIXTURE_NAME,
  "quentin@patients.example",
  "asthma",
  "2026-11-01T10:00:00",
  "Fixture note",
  "Good morning",
];
export type Fixture = {
  clientId: string;
  sessionId: string;
  noteId: string;
  /** A coach the demo admin may assign without a second person (see test/support/people.ts). */
  coachId: string;
  /** A fresh coach account of its own, to change. */
  userId: string;
  /** Two held changes (assignments of fresh accounts to the client), when asked for. */
  changeIds: string[];
  /** A verification job of the demo org, when asked for. */
  verificationJobId: string;
  /** The demo org's settings as stored when the fixture was made (a PATCH names their version). */
  settings: SettingsDocument;
  /** A break-glass grant pending review (a second admin's, on the fixture client). */
  grantId: string;
  /** A done compliance report of the demo org. */
  reportId: string;
};
export type RouteRequest = { path: string; body?: unknown; as: string };

/** One request per route (and per caller where the answer differs by relationship). */
export function routeRequests(): Record<string, (f: Fixture) => RouteRequest[]> {
  return {
    health: () => [{ path: "/health", as: "coach1@demo.example" }],
    openapi: () => [{ path: "/openapi.json", as: "coach1@demo.example" }],
    createClient: () => [
      {
        path: "/clients",
        body: { name: FIXTURE_NAME, dateOfBirth: "1980-02-03" },
        as: "coach1@demo.example",
      },
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
    listInvites: () => [{ path: "/users/invites?limit=5", as: "admin@demo.example" }],
    updateUser: (f) => [
      { path: `/users/${f.userId}`, body: { version: 1, role: "coach_lead" }, as: "admin@demo.example" },
    ],
    reassignClients: (f) => [
      { path: `/users/${f.userId}/reassign`, body: { toCoachId: f.coachId }, as: "admin@demo.example" },
    ],
    unblockUser: (f) => [{ path: `/users/${f.userId}/block`, as: "admin@demo.example" }],
    assignCoach: (f) => [{ path: `/clients/${f.clientId}/coaches/${f.coachId}`, as: "admin@demo.example" }],
    unassignCoach: (f) => [{ path: `/clients/${f.clientId}/coaches/${f.coachId}`, as: "admin@demo.example" }],
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
        body: { text: FIXTURE_TRANSCRIPT },
        as: "coach1@demo.example",
      },
    ],
    getTranscript: (f) =>
      ["coach1@demo.example", "lead@demo.example"].map((as) => ({
        path: `/clients/${f.clientId}/sessions/${f.sessionId}/transcript`,
        as,
      })),
    createNote: (f) => [
      {
        path: `/clients/${f.clientId}/notes`,
        body: { text: `Met ${FIXTURE_NAME}` },
        as: "coach1@demo.example",
      },
    ],
    listNotes: (f) =>
      ["coach1@demo.example", "lead@demo.example"].map((as) => ({
        path: `/clients/${f.clientId}/notes`,
        as,
      })),
    updateNote: (f) => [
      {
        path: `/clients/${f.clientId}/notes/${f.noteId}`,
        body: { text: `Called ${FIXTURE_NAME}`, version: 1 },
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
    reviewBreakGlass: (f) => [
      {
        path: `/break-glass/${f.grantId}/review`,
        body: { note: "Reviewed: the emergency was real." },
        as: "compliance@demo.example",
      },
    ],
    listSecurityEvents: () => [
      { path: "/security/events?limit=5", as: "compliance@demo.example" },
      { path: "/security/events?type=break_glass_unreviewed", as: "admin@demo.example" },
    ],
    listAuditEntries: () => [{ path: "/audit/entries?limit=5", as: "compliance@demo.example" }],
    listDisclosures: (f) => [
      { path: `/clients/${f.clientId}/disclosures?limit=5`, as: "compliance@demo.example" },
    ],
    startAuditVerification: () => [{ path: "/audit/verify", as: "admin@demo.example" }],
    getAuditVerification: (f) => [{ path: `/audit/verify/${f.verificationJobId}`, as: "admin@demo.example" }],
    listChanges: () => [{ path: "/changes", as: "lead@demo.example" }],
    approveChange: (f) => [{ path: `/changes/${f.changeIds[0]}/approve`, as: "admin@demo.example" }],
    rejectChange: (f) => [{ path: `/changes/${f.changeIds[1]}/reject`, as: "admin@demo.example" }],
    listReports: () => [
      { path: "/reports?limit=5", as: "compliance@demo.example" },
      { path: "/reports?limit=5", as: "admin@demo.example" },
    ],
    requestReport: () => [{ path: "/reports", as: "compliance@demo.example" }],
    getReport: (f) => [{ path: `/reports/${f.reportId}`, as: "compliance@demo.example" }],
    getReportHtml: (f) => [{ path: `/reports/${f.reportId}/html`, as: "admin@demo.example" }],
    getSettings: () => [
      { path: "/settings", as: "admin@demo.example" },
      { path: "/settings", as: "compliance@demo.example" },
    ],
    // A real change (so the write is exercised) that loosens no protection, so every run makes the same calls
    // (a loosening one also raises a finding, a tightening one does not): the report schedule, in turn.
    updateSettings: (f) => [
      {
        path: "/settings",
        body: {
          version: f.settings.version,
          settings: {
            reports: { schedule: f.settings.settings.reports.schedule === "daily" ? "weekly" : "daily" },
          },
        },
        as: "admin@demo.example",
      },
    ],
  };
}

/**
 * A client of coach1 (on the lead's team) with consents, a session, a note, a transcript and more PHI
 * (version 2), also assigned to a fresh coach of its own (`userId`); held changes when asked for.
 */
export async function richFixture(
  stack: Stack,
  options: { heldChanges?: boolean; verificationJob?: boolean } = {},
): Promise<Fixture> {
  const { api } = stack;
  const owner = await stack.token("coach1@demo.example");
  const created = await stack.clientWithRecords(owner, FIXTURE_NAME, [
    "coaching",
    "ai_processing",
    "research",
  ]);
  const [userId, coachId] = await Promise.all([freshCoach(stack), assignableCoach(stack)]);
  const admin = await stack.token("admin@demo.example");
  const results = await Promise.all([
    api("PUT", `/clients/${created.clientId}/sessions/${created.sessionId}/transcript`, {
      token: owner,
      body: { text: FIXTURE_TRANSCRIPT },
    }),
    api("PATCH", `/clients/${created.clientId}`, {
      token: owner,
      body: { version: 1, email: "quentin@patients.example", conditions: ["asthma"] },
    }),
  ]);
  const assigned = await api("PUT", `/clients/${created.clientId}/coaches/${userId}`, { token: admin });
  expect([...results, assigned].map((r) => r.status)).toEqual([200, 200, 200]);
  const changeIds = options.heldChanges
    ? [await heldChange(stack, created.clientId), await heldChange(stack, created.clientId)]
    : [];
  const verificationJobId = options.verificationJob
    ? ((await api("GET", "/audit/verify", { token: admin })).json.jobId as string)
    : "";
  // A grant to review, on the fixture client (so its review is in the client's accounting, which the fault
  // suite's state covers), by a second admin: the demo admin's own break-glass request must stay possible.
  const grant = await api("POST", `/clients/${created.clientId}/break-glass`, {
    token: await secondAdminToken(stack),
    body: { reason: "Fixture: an emergency grant to review." },
  });
  expect(grant.status).toBe(201);
  return {
    ...created,
    userId,
    coachId,
    changeIds,
    verificationJobId,
    grantId: grant.json.grantId as string,
    settings: await settingsDocument("demo"),
    reportId: await doneReportOf("demo"),
  };
}
