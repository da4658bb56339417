/** DetectPHI-shaped findings, and how overlapping ones are merged. */
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

/**
 * One entity per stretch of overlapping findings: the earliest (then longest) keeps its type and grows
 * over every finding that overlaps it, whatever their types, so a redaction masks each finding whole
 * (an ADDRESS overlapping a NAME must not leave the end of the name in clear).
 */
export function resolveOverlaps(entities: readonly PhiEntity[]): PhiEntity[] {
  const sorted = [...entities].sort((a, b) => a.begin - b.begin || b.end - a.end);
  const kept: PhiEntity[] = [];
  for (const entity of sorted) {
    const last = kept.at(-1);
    if (!last || entity.begin >= last.end) kept.push({ ...entity });
    else if (entity.end > last.end) last.end = entity.end;
  }
  return kept;
}
