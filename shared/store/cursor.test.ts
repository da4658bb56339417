import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { cursorScope, openWith, sealWith } from "./cursor";

const Position = z.strictObject({ sk: z.string().regex(/^CLIENT#[\w-]+$/) });
const key = randomBytes(32);
const HOUR = 3_600_000;
const clock = { maxAgeMs: 24 * HOUR };
const lead = { orgId: "demo", userId: "lead-1" };
const scope = cursorScope(lead, "listClients", { role: "coach_lead" });
const clientId = "0f8fad5b-d9cb-469f-a165-70867728950e";
const sealed = sealWith(key, scope, { sk: `CLIENT#${clientId}` });
const refuse = (run: () => unknown) =>
  expect(run).toThrow(expect.objectContaining({ code: "INVALID_CURSOR" }));

describe("sealed cursors", () => {
  it("open for the caller and list they were given for, with the position inside", () => {
    expect(openWith(key, scope, Position, sealed, clock)).toEqual({ sk: `CLIENT#${clientId}` });
  });

  it("reveal nothing: no id, no key attribute, in any decoding", () => {
    const bytes = Buffer.from(sealed, "base64url");
    for (const text of [sealed, bytes.toString("utf8"), bytes.toString("latin1"), bytes.toString("hex")]) {
      expect(text).not.toContain(clientId);
      expect(text).not.toMatch(/CLIENT#|[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
    // Two cursors for one position differ (a fresh IV each time): a cursor cannot be recognised either.
    expect(sealWith(key, scope, { sk: `CLIENT#${clientId}` })).not.toBe(sealed);
  });

  it("are refused for another caller, another org, another list or other filters", () => {
    for (const other of [
      cursorScope({ orgId: "demo", userId: "admin-1" }, "listClients", { role: "coach_lead" }),
      cursorScope({ orgId: "other", userId: "lead-1" }, "listClients", { role: "coach_lead" }),
      cursorScope(lead, "listClients", { role: "admin" }),
      cursorScope(lead, "listAuditEntries", { role: "coach_lead" }),
      cursorScope(lead, "listClients", { role: "coach_lead", from: "2026-01-01T00:00:00Z" }),
    ])
      refuse(() => openWith(key, other, Position, sealed, clock));
  });

  it("are refused when any character is edited, truncated, re-spelled or made under another key", () => {
    for (let i = 0; i < sealed.length; i++) {
      const swapped = sealed[i] === "A" ? "B" : "A";
      refuse(() =>
        openWith(key, scope, Position, `${sealed.slice(0, i)}${swapped}${sealed.slice(i + 1)}`, clock),
      );
    }
    refuse(() => openWith(key, scope, Position, sealed.slice(0, -1), clock));
    refuse(() => openWith(key, scope, Position, `${sealed}=`, clock));
    refuse(() => openWith(randomBytes(32), scope, Position, sealed, clock));
    for (const junk of ["", "%%%", "e30", Buffer.from('{"sk":"CLIENT#x"}').toString("base64url")])
      refuse(() => openWith(key, scope, Position, junk, clock));
  });

  it("expire: refused once older than the bound (and when dated in the future)", () => {
    const now = Date.now();
    const old = sealWith(key, scope, { sk: "CLIENT#a" }, now - 25 * HOUR);
    refuse(() => openWith(key, scope, Position, old, { now, ...clock }));
    expect(openWith(key, scope, Position, old, { now: now - 2 * HOUR, ...clock })).toEqual({
      sk: "CLIENT#a",
    });
    const future = sealWith(key, scope, { sk: "CLIENT#a" }, now + HOUR);
    refuse(() => openWith(key, scope, Position, future, { now, ...clock }));
  });

  it("are refused when what they hold is not a position of this list", () => {
    refuse(() => openWith(key, scope, Position, sealWith(key, scope, { sk: "ORG#other" }), clock));
    refuse(() =>
      openWith(key, scope, Position, sealWith(key, scope, { sk: "CLIENT#a", pk: "ORG#b" }), clock),
    );
  });
});
