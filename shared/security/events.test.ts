import { describe, expect, it } from "vitest";
import { alertMessage, eventId, eventSortKey, type SecurityEvent } from "./events";

const event: SecurityEvent = {
  type: "excessive_access",
  severity: "high",
  orgId: "demo",
  at: "2026-11-24T03:00:00.000Z",
  window: { from: "2026-11-23T03:00:00.000Z", to: "2026-11-24T03:00:00.000Z" },
  subject: { userId: "user-1", clientCount: 42 },
  rule: "excessive_access",
  // A careless detector put words into the evidence: none of them may reach the topic.
  evidence: {
    distinctClients: 42,
    baseline: 6,
    clientName: "Quentin Marlowe",
    email: "quentin@patients.example",
    note: "asthma",
    clientIds: ["c-1", "c-2"],
    late: true,
  },
  dedupeKey: "excessive_access#user-1#2026-11-24",
};

describe("security findings", () => {
  it("publish ids, counts and times only: no string of the evidence, so no name, email or note", () => {
    const message = alertMessage({ ...event, eventId: eventId(event) });
    expect(message).toEqual({
      source: "coachvault",
      kind: "security_finding",
      eventId: eventId(event),
      type: "excessive_access",
      severity: "high",
      orgId: "demo",
      rule: "excessive_access",
      at: event.at,
      window: event.window,
      subject: { userId: "user-1", clientCount: 42 },
      counts: { distinctClients: 42, baseline: 6 },
    });
    const text = JSON.stringify(message);
    for (const secret of ["Quentin", "patients.example", "asthma", "c-1"]) expect(text).not.toContain(secret);
  });

  it("have an id stable for their dedupe key and org, and a sort key ordered by time", () => {
    expect(eventId(event)).toBe(eventId({ orgId: "demo", dedupeKey: event.dedupeKey }));
    expect(eventId(event)).not.toBe(eventId({ ...event, orgId: "other" }));
    const earlier = eventSortKey({ at: "2026-11-24T02:59:59.999Z" }, "zzz");
    expect(earlier < eventSortKey(event, "aaa")).toBe(true);
  });
});
