import { DetectPHICommand, type DetectPHICommandOutput } from "@aws-sdk/client-comprehendmedical";
import { aws, type FanOutOptions, fanOut } from "../aws";
import { getConfig } from "../config";
import { splitForDetection } from "./chunks";
import { type PhiEntity, type PhiType, resolveOverlaps } from "./entities";
import { offsetMap } from "./offsets";

/**
 * PHI in a text of any length through Comprehend Medical DetectPHI: split under its size limit, the
 * chunks sent `PHI_DETECT_CONCURRENCY` at a time (throttled calls retried with backoff until
 * `deadline`), each answer's code-point offsets mapped to UTF-16 within its chunk and then moved by the
 * chunk's start, overlapping findings merged.
 */
export type DetectOptions = Partial<Omit<FanOutOptions, "deadline">> & {
  /** Epoch milliseconds after which no DetectPHI call or retry starts (the caller's time budget). */
  deadline: number;
  /** One DetectPHI call (a seam for tests); the Comprehend Medical client by default. */
  send?: (text: string, signal: AbortSignal) => Promise<Pick<DetectPHICommandOutput, "Entities">>;
};

const detectPhi = (text: string, abortSignal: AbortSignal) =>
  aws("comprehendMedical").send(new DetectPHICommand({ Text: text }), { abortSignal });

export async function detectPhiViaComprehend(text: string, options: DetectOptions): Promise<PhiEntity[]> {
  const chunks = splitForDetection(text);
  const send = options.send ?? detectPhi;
  const answers = await fanOut(chunks, (chunk, signal) => send(chunk.text, signal), {
    ...options,
    concurrency: options.concurrency ?? getConfig().PHI_DETECT_CONCURRENCY,
  });
  const found: PhiEntity[] = [];
  for (const [index, chunk] of chunks.entries()) {
    const offsets = offsetMap(chunk.text);
    for (const entity of answers[index]?.Entities ?? []) {
      if (entity.BeginOffset === undefined || entity.EndOffset === undefined) continue;
      found.push({
        type: (entity.Type ?? "ID") as PhiType,
        begin: chunk.start + offsets.toUtf16(entity.BeginOffset),
        end: chunk.start + offsets.toUtf16(entity.EndOffset),
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
