import { splitsSurrogatePair } from "./offsets";

/**
 * Splits text for DetectPHI, which takes at most 20,000 bytes of UTF-8 per call. Chunks end at the
 * safest boundary that fits (paragraph, line, sentence, then any whitespace) and overlap a little, so
 * an identifier on a boundary is seen whole by at least one call.
 */
export const DETECT_PHI_MAX_BYTES = 20_000;

export type Chunk = { start: number; text: string };

const BOUNDARIES = [/\n\s*\n/g, /\n/g, /[.!?]\s/g, /\s/g];

function fitEnd(text: string, start: number, maxBytes: number): number {
  // Largest end such that text[start, end) fits in maxBytes of UTF-8.
  let low = start;
  let high = Math.min(text.length, start + maxBytes);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(text.slice(start, mid)) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  // Never between the halves of a surrogate pair: neither chunk could carry half a character.
  return low > start + 1 && splitsSurrogatePair(text, low) ? low - 1 : low;
}

function safeEnd(text: string, start: number, limit: number): number {
  if (limit >= text.length) return text.length;
  const window = text.slice(start, limit);
  for (const boundary of BOUNDARIES) {
    let last = -1;
    for (const match of window.matchAll(boundary)) last = (match.index ?? 0) + match[0].length;
    // Only accept a boundary in the back half, or chunks get pointlessly small.
    if (last > window.length / 2) return start + last;
  }
  return limit;
}

export function splitForDetection(
  text: string,
  maxBytes = DETECT_PHI_MAX_BYTES - 500,
  overlap = 200,
): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < text.length) {
    const end = safeEnd(text, start, fitEnd(text, start, maxBytes));
    chunks.push({ start, text: text.slice(start, end) });
    if (end >= text.length) break;
    // Step back by the overlap, to a whitespace so the next chunk starts on a word.
    let next = Math.max(start + 1, end - overlap);
    const space = text.slice(next, end).search(/\s/);
    next = space >= 0 ? next + space + 1 : end;
    start = next;
  }
  return chunks;
}
