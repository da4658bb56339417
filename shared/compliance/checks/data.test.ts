import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sealField } from "../../crypto";
import {
  grantedAt,
  isCoachless,
  isSealedText,
  PROCESSING_PURPOSES,
  plaintextPhi,
  recordEvents,
  transcriptFinding,
} from "./data";

const key = randomBytes(32);
const sealed = sealField(key, "Jane Roe", {
  orgId: "o",
  clientId: "c",
  recordId: "client#c",
  field: "name",
  version: 1,
});

describe("sealed PHI rules", () => {
  it("tells sealed text from plaintext", () => {
    expect(isSealedText(sealed)).toBe(true);
    expect(isSealedText("Jane Roe")).toBe(false);
    expect(isSealedText("v1.short")).toBe(false);
    expect(isSealedText(42)).toBe(false);
  });

  it("finds a PHI field stored beside the sealed map, or unsealed inside it", () => {
    const item = { clientId: "c", status: "active", phi: { name: sealed } };
    expect(plaintextPhi(item, ["name", "phone"], "phi")).toEqual([]);
    expect(plaintextPhi({ ...item, phone: "+1 555 0100" }, ["name", "phone"], "phi")).toEqual(["phone"]);
    expect(plaintextPhi({ ...item, phi: { name: "Jane Roe" } }, ["name"], "phi")).toEqual(["phi.name"]);
  });

  it("judges a transcript object by presence, digest and sealing", async () => {
    const { createHash } = await import("node:crypto");
    const digest = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
    const object = Buffer.from(sealed);
    expect(transcriptFinding(digest(object), object)).toBe("ok");
    expect(transcriptFinding(digest(object), undefined)).toBe("missing");
    expect(transcriptFinding(digest(object), Buffer.from(`${sealed}x`))).toBe("digest-mismatch");
    const plain = Buffer.from("hello, this is what was said");
    expect(transcriptFinding(digest(plain), plain)).toBe("not-encrypted");
  });
});

describe("clients.have-coach rule", () => {
  it("needs an active coach unless the client is discharged", () => {
    const active = new Set(["coach-1"]);
    expect(isCoachless({ status: "active", coaches: ["coach-1"] }, active)).toBe(false);
    expect(isCoachless({ status: "active", coaches: [] }, active)).toBe(true);
    expect(isCoachless({ status: "paused", coaches: ["gone"] }, active)).toBe(true);
    expect(isCoachless({ status: "discharged", coaches: [] }, active)).toBe(false);
  });
});

describe("consent.covered-processing rule", () => {
  it("decides by the last consent event at or before the processing", () => {
    const events = [
      { time: "2026-11-02T00:00:00.000Z", granted: false },
      { time: "2026-11-01T00:00:00.000Z", granted: true },
    ];
    expect(grantedAt(events, "2026-10-31T00:00:00.000Z", false)).toBe(false);
    expect(grantedAt(events, "2026-10-31T00:00:00.000Z", true)).toBe(true);
    expect(grantedAt(events, "2026-11-01T12:00:00.000Z", false)).toBe(true);
    expect(grantedAt(events, "2026-11-03T00:00:00.000Z", true)).toBe(false);
  });

  it("reads a stored consent's own grant and revocation", () => {
    const base = { clientId: "c", purpose: "coaching", version: "1", recordedBy: "u" } as const;
    expect(recordEvents({ ...base, status: "granted", grantedAt: "2026-11-01T00:00:00.000Z" })).toEqual([
      { time: "2026-11-01T00:00:00.000Z", granted: true },
    ]);
    const revoked = {
      ...base,
      status: "revoked",
      grantedAt: "2026-11-01T00:00:00.000Z",
      revokedAt: "2026-11-02T00:00:00.000Z",
    } as const;
    expect(grantedAt(recordEvents(revoked), "2026-11-01T12:00:00.000Z", false)).toBe(true);
    expect(grantedAt(recordEvents(revoked), "2026-11-03T00:00:00.000Z", false)).toBe(false);
    expect(recordEvents(undefined)).toEqual([]);
  });

  it("follows the consent gate's own table", () => {
    expect(PROCESSING_PURPOSES["session.create"]).toEqual(["coaching"]);
    expect(PROCESSING_PURPOSES["transcript.upload"]).toEqual(["coaching", "ai_processing"]);
  });
});
