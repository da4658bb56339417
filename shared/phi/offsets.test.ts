import { describe, expect, it } from "vitest";
import { splitForDetection } from "./chunks";
import { offsetMap, splitsSurrogatePair } from "./offsets";

/** Code points as Comprehend Medical counts them, computed independently of the code under test. */
const codePointsBefore = (text: string, utf16Index: number) => Array.from(text.slice(0, utf16Index)).length;

describe("code-point offsets (Comprehend Medical) to UTF-16 indices (JavaScript strings)", () => {
  it("are the same on text without astral characters", () => {
    const map = offsetMap("Call Ann Lee.");
    for (let i = 0; i <= 13; i++) {
      expect(map.toUtf16(i)).toBe(i);
      expect(map.toCodePoint(i)).toBe(i);
    }
  });

  it("drift one unit apart after each astral character (emoji, CJK extension B, musical symbols)", () => {
    const text = "😀🙂 Hi 𠀋 Maria 𝄞 Delgado";
    const map = offsetMap(text);
    for (const name of ["Maria", "Delgado"]) {
      const begin = text.indexOf(name);
      const codePoint = codePointsBefore(text, begin);
      expect(codePoint).toBeLessThan(begin);
      expect(map.toUtf16(codePoint)).toBe(begin);
      expect(map.toUtf16(codePoint + name.length)).toBe(begin + name.length);
      expect(map.toCodePoint(begin)).toBe(codePoint);
      expect(text.slice(map.toUtf16(codePoint), map.toUtf16(codePoint + name.length))).toBe(name);
    }
  });

  it("count combining marks as code points of their own (not grapheme clusters)", () => {
    const text = "Jose\u0301 and Zoe\u0308 met Maria";
    const map = offsetMap(text);
    const begin = text.indexOf("Maria");
    expect(codePointsBefore(text, begin)).toBe(begin);
    expect(map.toUtf16(begin)).toBe(begin);
    // A combining mark after an astral base: the base is two units, the mark one.
    const mixed = "👍\u0301 Maria";
    expect(offsetMap(mixed).toUtf16(3)).toBe(4);
    expect(mixed.slice(offsetMap(mixed).toUtf16(3))).toBe("Maria");
  });

  it("round-trip every code-point boundary, and clamp offsets past the end to the end", () => {
    const text = "a😀b\u0301c𠀋\n🙂🙂 end";
    const map = offsetMap(text);
    const count = Array.from(text).length;
    for (let cp = 0; cp <= count; cp++) {
      const index = map.toUtf16(cp);
      expect(splitsSurrogatePair(text, index)).toBe(false);
      expect(codePointsBefore(text, index)).toBe(cp);
      expect(map.toCodePoint(index)).toBe(cp);
    }
    expect(map.toUtf16(count + 5)).toBe(text.length);
    expect(map.toUtf16(-1)).toBe(0);
  });
});

describe("chunk boundaries and surrogate pairs", () => {
  it("never cut a surrogate pair, so each chunk is valid UTF-16 and its code points count from its own start", () => {
    // No whitespace: the splitter has to cut inside the run, where a byte limit lands mid-pair.
    for (const maxBytes of [9, 10, 11, 13, 101]) {
      const text = `${"😀a".repeat(60)}Maria${"🙂".repeat(40)}`;
      const chunks = splitForDetection(text, maxBytes, 3);
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(splitsSurrogatePair(text, chunk.start)).toBe(false);
        expect(splitsSurrogatePair(text, chunk.start + chunk.text.length)).toBe(false);
        expect(chunk.text).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
        expect(Buffer.byteLength(chunk.text)).toBeLessThanOrEqual(maxBytes);
        expect(Buffer.from(chunk.text).toString()).toBe(chunk.text);
      }
      expect(chunks.at(-1)?.start ?? 0).toBeLessThan(text.length);
    }
  });
});
