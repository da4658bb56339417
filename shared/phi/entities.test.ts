import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redact } from "./comprehend";
import { type PhiEntity, type PhiType, resolveOverlaps } from "./entities";

const TYPES: PhiType[] = ["NAME", "DATE", "ADDRESS", "ID", "PHONE_OR_FAX"];

describe("overlapping findings", () => {
  it("a NAME overlapping an ADDRESS is masked whole (the review's case)", () => {
    const text = "Patient lives at 12 Elm Street Springfield John Smith called";
    const address: PhiEntity = { type: "ADDRESS", begin: 17, end: 42, score: 0.9 };
    const name: PhiEntity = { type: "NAME", begin: 30, end: 53, score: 0.9 };
    expect(redact(text, resolveOverlaps([address, name]))).toBe("Patient lives at [ADDRESS] called");
  });

  it("whatever the findings, every character inside one is masked and every other one kept", () => {
    const findings = (length: number) =>
      fc.array(
        fc
          .tuple(fc.nat(length), fc.nat(length), fc.constantFrom(...TYPES))
          .filter(([a, b]) => a !== b)
          .map(([a, b, type]) => ({ type, begin: Math.min(a, b), end: Math.max(a, b), score: 0.9 })),
        { maxLength: 8 },
      );
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 60 })
          .chain((text) => fc.tuple(fc.constant(text), findings(text.length))),
        ([text, entities]) => {
          const covered = (i: number) => entities.some((e) => e.begin <= i && i < e.end);
          const kept = text
            .split("")
            .filter((_, i) => !covered(i))
            .join("");
          const masks = /\[(NAME|DATE|ADDRESS|ID|PHONE_OR_FAX)\]/g;
          // Markers removed, what is left is exactly the text outside every finding, in order.
          const inputHasMarkers = masks.test(text);
          masks.lastIndex = 0;
          if (!inputHasMarkers) expect(redact(text, resolveOverlaps(entities)).replace(masks, "")).toBe(kept);
        },
      ),
      { numRuns: 500 },
    );
  });
});
