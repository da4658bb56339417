import type { PhiEntity, PhiType } from "../../shared/phi";
import type { Sample } from "./dataset";

/**
 * Precision, recall and F1 per type: a finding counts as correct when it overlaps a label of the same
 * type (each label matched at most once), the usual lenient NER match for redaction, where covering
 * the identifier is what matters. Recall also per label kind (findings carry no kind, so no precision).
 */
export type Score = { tp: number; fp: number; fn: number; precision: number; recall: number; f1: number };
export type KindRecall = { found: number; labels: number; recall: number };

function ratio(tp: number, fp: number, fn: number): Score {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, precision, recall, f1 };
}

export function score(samples: readonly Sample[], detect: (text: string) => PhiEntity[]) {
  const counts = new Map<PhiType | "ALL", { tp: number; fp: number; fn: number }>();
  const bump = (type: PhiType, key: "tp" | "fp" | "fn") => {
    for (const bucket of [type, "ALL"] as const) {
      const entry = counts.get(bucket) ?? { tp: 0, fp: 0, fn: 0 };
      entry[key]++;
      counts.set(bucket, entry);
    }
  };
  const kinds = new Map<string, { found: number; labels: number }>();
  const misses: { text: string; kind: "missed" | "spurious"; type: PhiType; value: string }[] = [];
  for (const sample of samples) {
    const found = detect(sample.text);
    const used = new Set<number>();
    for (const entity of found) {
      const index = sample.labels.findIndex(
        (label, i) =>
          !used.has(i) && label.type === entity.type && entity.begin < label.end && label.begin < entity.end,
      );
      if (index >= 0) {
        used.add(index);
        bump(entity.type, "tp");
      } else {
        bump(entity.type, "fp");
        misses.push({
          text: sample.text,
          kind: "spurious",
          type: entity.type,
          value: sample.text.slice(entity.begin, entity.end),
        });
      }
    }
    for (const [i, label] of sample.labels.entries()) {
      if (label.kind) {
        const kind = kinds.get(label.kind) ?? { found: 0, labels: 0 };
        kind.labels++;
        if (used.has(i)) kind.found++;
        kinds.set(label.kind, kind);
      }
      if (used.has(i)) continue;
      bump(label.type, "fn");
      misses.push({
        text: sample.text,
        kind: "missed",
        type: label.type,
        value: sample.text.slice(label.begin, label.end),
      });
    }
  }
  const byType = Object.fromEntries([...counts].map(([type, c]) => [type, ratio(c.tp, c.fp, c.fn)]));
  const byKind: Record<string, KindRecall> = Object.fromEntries(
    [...kinds]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, k]) => [kind, { ...k, recall: k.found / k.labels }]),
  );
  return { byType, byKind, misses };
}
