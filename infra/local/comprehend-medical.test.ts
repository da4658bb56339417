import { describe, expect, it } from "vitest";
import { answerDetectPhi } from "./comprehend-medical";

/** The local DetectPHI answers as the service does: offsets counted in Unicode code points. */
describe("local Comprehend Medical DetectPHI", () => {
  it("counts BeginOffset/EndOffset in code points, so an emoji before a name moves them as the service does", () => {
    const text = "😀😀😀 Good morning Maria Delgado, 𠀋 see you on 03/14/2027.";
    const { Entities } = answerDetectPhi({ Text: text });
    const codePoints = Array.from(text);
    const name = Entities.find((entity) => entity.Type === "NAME");
    expect(name?.BeginOffset).toBe(Array.from(text.slice(0, text.indexOf("Maria"))).length);
    expect(name?.BeginOffset).toBe(text.indexOf("Maria") - 3);
    for (const entity of Entities) {
      expect(codePoints.slice(entity.BeginOffset, entity.EndOffset).join("")).toBe(entity.Text);
    }
    expect(Entities.map((entity) => entity.Text)).toEqual(
      expect.arrayContaining(["Maria Delgado", "03/14/2027"]),
    );
  });

  it("refuses what the service refuses", () => {
    expect(() => answerDetectPhi({ Text: "" })).toThrow();
    expect(() => answerDetectPhi({ Text: "a".repeat(20_001) })).toThrow(/20000 bytes/);
  });
});
