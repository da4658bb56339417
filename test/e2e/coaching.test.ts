import { PutObjectCommand } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { readOrgChains } from "../../shared/audit";
import { aws } from "../../shared/aws";
import { getConfig } from "../../shared/config";
import { loadSession } from "../../shared/store";
import { testStack } from "../support/stack";

/** Consent, sessions, transcripts with PHI detection, notes and break-glass, over HTTPS with real sign-in. */
const stack = testStack();
const { api } = stack;

const TRANSCRIPT = [
  "Coach: Good morning Maria Delgado, thanks for joining.",
  "Client: Morning. My new number is (555) 301-7744 and my email is maria.d@example.org.",
  "Coach: Noted. Your next visit with Dr. Okafor is on 03/14/2027, right?",
  "Client: Yes. I've been walking every day and sleeping better.",
].join("\n");
const PHI_VALUES = ["Maria Delgado", "(555) 301-7744", "maria.d@example.org", "Okafor", "03/14/2027"];

let coach1: string;
let lead: string;
let admin: string;
let coach2: string;
let clientId: string;
let sessionId: string;

beforeAll(async () => {
  [coach1, lead, admin, coach2] = (await Promise.all(
    ["coach1@demo.example", "lead@demo.example", "admin@demo.example", "coach2@demo.example"].map((e) =>
      stack.token(e),
    ),
  )) as [string, string, string, string];
  clientId = (await api("POST", "/clients", { token: coach1, body: { name: "Transcript Client" } })).json
    .clientId;
});

const session = { startsAt: "2026-11-20T15:00:00Z", durationMinutes: 50, type: "coaching" };

describe("consent", () => {
  it("refuses a session until the client consents to coaching, and again after revocation", async () => {
    const refused = await api("POST", `/clients/${clientId}/sessions`, { token: coach1, body: session });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("CONSENT_REQUIRED");
    const granted = await api("PUT", `/clients/${clientId}/consents/coaching`, {
      token: coach1,
      body: { version: "2026-01" },
    });
    expect(granted.status).toBe(200);
    expect(granted.json).toMatchObject({ purpose: "coaching", status: "granted", version: "2026-01" });
    const created = await api("POST", `/clients/${clientId}/sessions`, { token: coach1, body: session });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject(session);
    sessionId = created.json.sessionId;

    const other = (await api("POST", "/clients", { token: coach1, body: { name: "Revoking Client" } })).json
      .clientId;
    await api("PUT", `/clients/${other}/consents/coaching`, { token: coach1, body: { version: "2026-01" } });
    expect((await api("DELETE", `/clients/${other}/consents/coaching`, { token: coach1 })).json.status).toBe(
      "revoked",
    );
    expect((await api("POST", `/clients/${other}/sessions`, { token: coach1, body: session })).status).toBe(
      409,
    );
    const list = await api("GET", `/clients/${other}/consents`, { token: admin });
    expect(list.json.items).toEqual([expect.objectContaining({ purpose: "coaching", status: "revoked" })]);
  });

  it("rejects an unknown purpose", async () => {
    expect(
      (await api("PUT", `/clients/${clientId}/consents/marketing`, { token: coach1, body: { version: "1" } }))
        .status,
    ).toBe(400);
  });
});

describe("transcripts", () => {
  it("needs the client's AI-processing consent, since the text goes to PHI detection", async () => {
    const refused = await api("PUT", `/clients/${clientId}/sessions/${sessionId}/transcript`, {
      token: coach1,
      body: { text: TRANSCRIPT },
    });
    expect(refused.status).toBe(409);
    await api("PUT", `/clients/${clientId}/consents/ai_processing`, {
      token: coach1,
      body: { version: "2026-01" },
    });
  });

  it("stores the transcript with a PHI summary of types and counts, never values", async () => {
    const stored = await api("PUT", `/clients/${clientId}/sessions/${sessionId}/transcript`, {
      token: coach1,
      body: { text: TRANSCRIPT },
    });
    expect(stored.status).toBe(200);
    expect(stored.json.version).toBe(1);
    expect(stored.json.phiSummary).toMatchObject({ NAME: 2, PHONE_OR_FAX: 1, EMAIL: 1, DATE: 1 });
    for (const value of PHI_VALUES) expect(stored.text).not.toContain(value);
  });

  it("gives the assigned coach the full text, the team lead the redacted copy, the admin nothing", async () => {
    const full = await api("GET", `/clients/${clientId}/sessions/${sessionId}/transcript`, { token: coach1 });
    expect(full.json).toMatchObject({ text: TRANSCRIPT, redacted: false });
    const redacted = await api("GET", `/clients/${clientId}/sessions/${sessionId}/transcript`, {
      token: lead,
    });
    expect(redacted.status).toBe(200);
    expect(redacted.json.redacted).toBe(true);
    for (const value of PHI_VALUES) expect(redacted.json.text).not.toContain(value);
    expect(redacted.json.text).toContain("I've been walking every day");
    expect(redacted.json.text).toContain("[PHONE_OR_FAX]");
    expect(
      (await api("GET", `/clients/${clientId}/sessions/${sessionId}/transcript`, { token: admin })).status,
    ).toBe(403);
    expect(
      (await api("GET", `/clients/${clientId}/sessions/${sessionId}/transcript`, { token: coach2 })).status,
    ).toBe(404);
  });

  it("masks names after emoji and other astral characters whole: the lead's copy holds no part of them", async () => {
    // DetectPHI counts offsets in code points; each emoji is two UTF-16 units, so unmapped offsets drift.
    const names = ["Maria Delgado", "Okafor"];
    const text = [
      "Coach: 🙂🙂🙂 Good morning Maria Delgado, thanks 🎉🎉 for joining.",
      "Client: 😀 Morning! 𠀋 I saw Dr. Okafor 👍🏽👍🏽 on 03/14/2027.",
      "Coach: 🙏🙏🙏🙏 Great, and greet Maria Delgado's sister for me.",
    ].join("\n");
    const created = await api("POST", `/clients/${clientId}/sessions`, { token: coach1, body: session });
    const id = created.json.sessionId;
    const stored = await api("PUT", `/clients/${clientId}/sessions/${id}/transcript`, {
      token: coach1,
      body: { text },
    });
    expect(stored.status).toBe(200);
    expect(stored.json.phiSummary).toMatchObject({ NAME: 3 });
    const res = await api("GET", `/clients/${clientId}/sessions/${id}/transcript`, { token: lead });
    expect(res.json.redacted).toBe(true);
    const redacted: string = res.json.text;
    const rest = names.reduce((remaining, name) => remaining.replaceAll(name, ""), text);
    // Every three-letter piece of every name that the rest of the text does not also hold.
    const pieces = names
      .flatMap((name) => name.split(" "))
      .flatMap((word) => Array.from({ length: word.length - 2 }, (_, i) => word.slice(i, i + 3)))
      .filter((piece) => !rest.includes(piece));
    expect(pieces.length).toBeGreaterThan(8);
    for (const piece of pieces) expect(redacted).not.toContain(piece);
    expect(redacted).toContain("🙂🙂🙂 Good morning [NAME], thanks 🎉🎉 for joining.");
    expect(redacted).toContain("🙏🙏🙏🙏 Great, and greet [NAME]'s sister for me.");
  });

  it("splits long transcripts under DetectPHI's 20,000-byte limit and still finds everything", async () => {
    const long = Array.from(
      { length: 120 },
      (_, i) => `Line ${i}: call Maria Delgado at (555) 301-7744 about the plan.`,
    ).join("\n");
    expect(Buffer.byteLength(long)).toBeGreaterThan(60_000 / 10);
    const big = `${long}\n${"We talked about sleep and stress. ".repeat(2000)}\nFinally, email maria.d@example.org.`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(60_000);
    const stored = await api("PUT", `/clients/${clientId}/sessions/${sessionId}/transcript`, {
      token: coach1,
      body: { text: big },
    });
    expect(stored.status).toBe(200);
    expect(stored.json).toMatchObject({ version: 2, phiSummary: { NAME: 120, PHONE_OR_FAX: 120, EMAIL: 1 } });
    const read = await api("GET", `/clients/${clientId}/sessions/${sessionId}/transcript`, { token: coach1 });
    expect(read.json.text).toBe(big);
  });

  it("refuses a transcript over 1 MB", async () => {
    const res = await api("PUT", `/clients/${clientId}/sessions/${sessionId}/transcript`, {
      token: coach1,
      body: { text: "a".repeat(1_000_001) },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([{ field: "body.text", rule: "max_bytes:1000000" }]);
  });

  it("a stored object that fails its SHA-256 check is an audited integrity error, never data", async () => {
    const sessionRes = await api("POST", `/clients/${clientId}/sessions`, { token: coach1, body: session });
    const id = sessionRes.json.sessionId;
    await api("PUT", `/clients/${clientId}/sessions/${id}/transcript`, {
      token: coach1,
      body: { text: TRANSCRIPT },
    });
    const stored = await loadSession("demo", clientId, id);
    await aws("s3").send(
      new PutObjectCommand({
        Bucket: getConfig().BUCKET_TRANSCRIPTS,
        Key: stored?.transcript?.full.key,
        Body: Buffer.from("v1.tampered"),
      }),
    );
    const res = await api("GET", `/clients/${clientId}/sessions/${id}/transcript`, { token: coach1 });
    expect(res.status).toBe(500);
    expect(res.json.error.code).toBe("INTEGRITY_ERROR");
    expect(res.text).not.toContain("tampered");
    const entries = (await readOrgChains("demo")).flat().map((e) => JSON.parse(e.entry));
    expect(entries).toContainEqual(
      expect.objectContaining({
        action: "transcript.read",
        outcome: "failure",
        resource: expect.objectContaining({ id }),
      }),
    );
  });
});

describe("notes", () => {
  it("are versioned: a stale version is a 409; the lead reads them, the admin cannot", async () => {
    const created = await api("POST", `/clients/${clientId}/notes`, {
      token: coach1,
      body: { text: "Sleeps 6h, wants 7h.", sessionId },
    });
    expect(created.status).toBe(201);
    const noteId = created.json.noteId;
    const updated = await api("PATCH", `/clients/${clientId}/notes/${noteId}`, {
      token: coach1,
      body: { text: "Sleeps 6.5h now.", version: 1 },
    });
    expect(updated.json).toMatchObject({ version: 2, text: "Sleeps 6.5h now." });
    const stale = await api("PATCH", `/clients/${clientId}/notes/${noteId}`, {
      token: coach1,
      body: { text: "X", version: 1 },
    });
    expect(stale.status).toBe(409);
    const leadView = await api("GET", `/clients/${clientId}/notes`, { token: lead });
    expect(leadView.json.items.map((n: { text: string }) => n.text)).toContain("Sleeps 6.5h now.");
    expect(
      (
        await api("PATCH", `/clients/${clientId}/notes/${noteId}`, {
          token: lead,
          body: { text: "Y", version: 2 },
        })
      ).status,
    ).toBe(403);
    expect((await api("GET", `/clients/${clientId}/notes`, { token: admin })).status).toBe(403);
  });
});

describe("break-glass", () => {
  it("grants a time-boxed, audited emergency read that cannot be extended silently", async () => {
    expect((await api("GET", `/clients/${clientId}`, { token: admin })).json).not.toHaveProperty("name");
    const tooShort = await api("POST", `/clients/${clientId}/break-glass`, {
      token: admin,
      body: { reason: "need it" },
    });
    expect(tooShort.status).toBe(400);
    const granted = await api("POST", `/clients/${clientId}/break-glass`, {
      token: admin,
      body: { reason: "Client reported a medical emergency on the crisis line; coach unreachable." },
    });
    expect(granted.status).toBe(201);
    const minutes = (Date.parse(granted.json.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(55);
    expect(minutes).toBeLessThanOrEqual(60);
    const read = await api("GET", `/clients/${clientId}`, { token: admin });
    expect(read.json.name).toBe("Transcript Client");
    const again = await api("POST", `/clients/${clientId}/break-glass`, {
      token: admin,
      body: { reason: "Asking again to extend the emergency window quietly." },
    });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("BREAK_GLASS_ACTIVE");
    const entries = (await readOrgChains("demo")).flat().map((e) => JSON.parse(e.entry));
    const adminId = stack.users.find((u) => u.email === "admin@demo.example")?.userId;
    const mine = entries.filter((e) => e.actor.id === adminId && e.resource.clientId === clientId);
    expect(mine).toContainEqual(expect.objectContaining({ action: "breakglass.grant", breakGlass: true }));
    expect(mine).toContainEqual(expect.objectContaining({ action: "client.read", breakGlass: true }));
    expect(JSON.stringify(mine)).not.toContain("medical emergency");
  });

  it("is not for coaches, and not for clients of another org", async () => {
    const reason = { reason: "Trying to reach a client I am not assigned to." };
    expect(
      (await api("POST", `/clients/${clientId}/break-glass`, { token: coach2, body: reason })).status,
    ).toBe(403);
    const otherAdmin = await stack.token("admin@other.example");
    expect(
      (await api("POST", `/clients/${clientId}/break-glass`, { token: otherAdmin, body: reason })).status,
    ).toBe(404);
  });
});
