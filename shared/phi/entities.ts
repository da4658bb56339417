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

/** Keeps the earliest, then longest, entity where two overlap. */
export function resolveOverlaps(entities: readonly PhiEntity[]): PhiEntity[] {
  const sorted = [...entities].sort((a, b) => a.begin - b.begin || b.end - a.end);
  const kept: PhiEntity[] = [];
  for (const entity of sorted) {
    const last = kept.at(-1);
    if (!last || entity.begin >= last.end) kept.push(entity);
    else if (entity.end > last.end && entity.type === last.type) last.end = entity.end;
  }
  return kept;
}
