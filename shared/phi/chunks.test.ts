import { describe, expect, it } from "vitest";
import { DETECT_PHI_MAX_BYTES, splitForDetection } from "./chunks";
import { phiSummary, redact } from "./comprehend";

describe("splitForDetection", () => {
  it("keeps every chunk under DetectPHI's byte limit, even with multi-byte text", () => {
    const text = "Café ☕ notes, naïve résumé. ".repeat(4000);
    const chunks = splitForDetection(text);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks)
      expect(Buffer.byteLength(chunk.text)).toBeLessThanOrEqual(DETECT_PHI_MAX_BYTES);
  });

  it("covers the whole text, with offsets that map back exactly", () => {
    const text = Array.from({ length: 3000 }, (_, i) => `Sentence ${i} about sleep.`).join(" ");
    const chunks = splitForDetection(text);
    for (const chunk of chunks)
      expect(text.slice(chunk.start, chunk.start + chunk.text.length)).toBe(chunk.text);
    expect(chunks[0]?.start).toBe(0);
    const last = chunks.at(-1);
    expect((last?.start ?? 0) + (last?.text.length ?? 0)).toBe(text.length);
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1] as { start: number; text: string };
      expect((chunks[i]?.start ?? 0) <= previous.start + previous.text.length).toBe(true);
    }
  });

  it("ends chunks at paragraph or sentence boundaries when it can, never inside a word", () => {
    const text = Array.from(
      { length: 400 },
      (_, i) => `Paragraph ${i} mentions Maria Delgado twice, Maria Delgado.`,
    ).join("\n\n");
    for (const chunk of splitForDetection(text).slice(0, -1)) expect(chunk.text).toMatch(/\n\s*\n$|[.!?]\s$/);
  });

  it("returns one chunk for short text", () => {
    expect(splitForDetection("Hi there.")).toEqual([{ start: 0, text: "Hi there." }]);
  });
});

describe("redaction", () => {
  it("replaces each entity with its type and counts types, never values", () => {
    const text = "Call Ann Lee at 555-201-7788.";
    const entities = [
      { type: "NAME" as const, begin: 5, end: 12, score: 0.9 },
      { type: "PHONE_OR_FAX" as const, begin: 16, end: 28, score: 0.9 },
    ];
    expect(redact(text, entities)).toBe("Call [NAME] at [PHONE_OR_FAX].");
    expect(phiSummary(entities)).toEqual({ NAME: 1, PHONE_OR_FAX: 1 });
  });
});
