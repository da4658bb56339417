import { DetectPHICommand } from "@aws-sdk/client-comprehendmedical";
import { aws } from "../aws";
import { splitForDetection } from "./chunks";
import { type PhiEntity, type PhiType, resolveOverlaps } from "./entities";

/**
 * PHI in a text of any length through Comprehend Medical DetectPHI: split under its size limit,
 * offsets mapped back to the whole text, overlapping findings merged.
 */
export async function detectPhiViaComprehend(text: string): Promise<PhiEntity[]> {
  const found: PhiEntity[] = [];
  for (const chunk of splitForDetection(text)) {
    const out = await aws("comprehendMedical").send(new DetectPHICommand({ Text: chunk.text }));
    for (const entity of out.Entities ?? []) {
      if (entity.BeginOffset === undefined || entity.EndOffset === undefined) continue;
      found.push({
        type: (entity.Type ?? "ID") as PhiType,
        begin: chunk.start + entity.BeginOffset,
        end: chunk.start + entity.EndOffset,
        score: entity.Score ?? 0,
      });
    }
  }
  return resolveOverlaps(found);
}

/** Replaces each entity with its type in brackets: `[NAME] called on [DATE]`. */
export function redact(text: string, entities: readonly PhiEntity[]): string {
  let out = "";
  let at = 0;
  for (const entity of [...entities].sort((a, b) => a.begin - b.begin)) {
    if (entity.begin < at) continue;
    out += `${text.slice(at, entity.begin)}[${entity.type}]`;
    at = entity.end;
  }
  return out + text.slice(at);
}

/** Types and counts, never values. */
export function phiSummary(entities: readonly PhiEntity[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entity of entities) counts[entity.type] = (counts[entity.type] ?? 0) + 1;
  return counts;
}
