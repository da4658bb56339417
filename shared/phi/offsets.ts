/**
 * Comprehend Medical counts `BeginOffset`/`EndOffset` in Unicode code points; a JavaScript string is
 * indexed in UTF-16 code units. An astral character (an emoji, many CJK ideographs) is one code point but
 * two units, so after each one the two counts drift a unit apart, and slicing a string at a code-point
 * offset masks the wrong characters. Combining marks are code points of their own in both counts.
 */
export type OffsetMap = {
  /** The UTF-16 index of code point `offset` (clamped to the text: a mask never ends short of it). */
  toUtf16(offset: number): number;
  /** The code-point offset of UTF-16 index `index` (an index inside a surrogate pair counts the pair). */
  toCodePoint(index: number): number;
};

export function offsetMap(text: string): OffsetMap {
  // utf16At[n] = the UTF-16 index where code point n starts; the last entry is the text's length.
  const utf16At: number[] = [];
  for (let index = 0; index < text.length; ) {
    utf16At.push(index);
    index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
  utf16At.push(text.length);
  const codePoints = utf16At.length - 1;
  return {
    toUtf16: (offset) => utf16At[Math.min(Math.max(0, Math.trunc(offset)), codePoints)] as number,
    toCodePoint: (index) => {
      // Binary search: the number of code points that start before `index`.
      let low = 0;
      let high = codePoints;
      while (low < high) {
        const mid = (low + high) >> 1;
        if ((utf16At[mid] as number) < index) low = mid + 1;
        else high = mid;
      }
      return low;
    },
  };
}

/** Whether a UTF-16 index falls between the two halves of a surrogate pair (no string may be cut there). */
export function splitsSurrogatePair(text: string, index: number): boolean {
  if (index <= 0 || index >= text.length) return false;
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}
