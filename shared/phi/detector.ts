/**
 * Rule-based PHI detection returning Comprehend Medical DetectPHI-shaped entities. This is the engine
 * behind the local DetectPHI endpoint; in the cloud, Comprehend Medical itself answers.
 */
export type PhiType =
  | "NAME"
  | "DATE"
  | "AGE"
  | "PHONE_OR_FAX"
  | "EMAIL"
  | "ID"
  | "URL"
  | "ADDRESS"
  | "PROFESSION";
export type PhiEntity = { type: PhiType; begin: number; end: number; score: number };

type Rule = { type: PhiType; pattern: RegExp; score: number; group?: number };

const RULES: readonly Rule[] = [
  { type: "EMAIL", pattern: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, score: 0.99 },
  { type: "URL", pattern: /\bhttps?:\/\/[^\s<>"')]+/g, score: 0.98 },
  { type: "ID", pattern: /\b\d{3}-\d{2}-\d{4}\b/g, score: 0.97 },
  { type: "PHONE_OR_FAX", pattern: /(?:\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b/g, score: 0.95 },
  { type: "DATE", pattern: /\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\/\d{1,2}\/\d{2,4}\b/g, score: 0.93 },
  {
    type: "NAME",
    pattern: /\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)/g,
    score: 0.9,
    group: 1,
  },
];

export function detectPhi(text: string): PhiEntity[] {
  const found: PhiEntity[] = [];
  for (const rule of RULES) {
    for (const match of text.matchAll(rule.pattern)) {
      const whole = match[0];
      const part = rule.group ? (match[rule.group] ?? whole) : whole;
      const begin = (match.index ?? 0) + whole.indexOf(part);
      found.push({ type: rule.type, begin, end: begin + part.length, score: rule.score });
    }
  }
  return resolveOverlaps(found);
}

/** Keeps the earliest, then longest, entity where two overlap. */
function resolveOverlaps(entities: PhiEntity[]): PhiEntity[] {
  const sorted = [...entities].sort((a, b) => a.begin - b.begin || b.end - a.end);
  const kept: PhiEntity[] = [];
  for (const entity of sorted) {
    const last = kept.at(-1);
    if (!last || entity.begin >= last.end) kept.push(entity);
  }
  return kept;
}
