import { detectPhi } from "../../shared/phi/detector";
import { evaluationSet, type Sample } from "../phi-eval/dataset";
import { score } from "../phi-eval/score";
import { saveResults } from "./results";

/**
 * `npm run bench:phi`: precision, recall and F1 of the local PHI detector per type, recall per label
 * kind, on the whole evaluation set and per part (the clinical-style snippets it was built on, the
 * general-domain ones of issue 13, and the held-out snippets of each, never tuned against), and its
 * throughput in MB/s on one core. Results: test/bench/results/phi.json.
 */
const samples = evaluationSet();
const PARTS: Record<string, (sample: Sample) => boolean> = {
  clinical: (s) => s.part === "clinical" && s.source !== "holdout",
  general: (s) => s.part === "general" && s.source !== "holdout",
  "held-out clinical": (s) => s.part === "clinical" && s.source === "holdout",
  "held-out general": (s) => s.part === "general" && s.source === "holdout",
};
const all = score(samples, detectPhi);
const parts = Object.fromEntries(
  Object.entries(PARTS).map(([part, inPart]) => {
    const subset = samples.filter(inPart);
    return [part, { samples: subset.length, ...score(subset, detectPhi) }];
  }),
);

// Throughput: the set's text, repeated to ~16 MB, detected in 1 MB documents on one core (this process).
// CPU time is the figure for "one core": on a shared machine wall time also counts the other processes.
const corpus = samples.map((sample) => sample.text).join("\n");
const document = corpus.repeat(Math.ceil(1_000_000 / Buffer.byteLength(corpus)));
const documentBytes = Buffer.byteLength(document);
detectPhi(document); // warm-up (JIT, dictionaries)
const runs = 16;
const started = performance.now();
const cpuAtStart = process.cpuUsage();
let entities = 0;
for (let i = 0; i < runs; i++) entities += detectPhi(document).length;
const cpu = process.cpuUsage(cpuAtStart);
const seconds = (performance.now() - started) / 1000;
const cpuSeconds = (cpu.user + cpu.system) / 1_000_000;
const megabytes = (documentBytes * runs) / 1_000_000;
const mbPerSecond = megabytes / cpuSeconds;
const mbPerSecondWall = megabytes / seconds;

const fixed = (n: number) => n.toFixed(3);
const typeTable = (result: typeof all) =>
  Object.entries(result.byType)
    .sort(([a], [b]) => (a === "ALL" ? 1 : b === "ALL" ? -1 : a.localeCompare(b)))
    .map(([type, s]) => ({
      type,
      tp: s.tp,
      fp: s.fp,
      fn: s.fn,
      precision: fixed(s.precision),
      recall: fixed(s.recall),
      f1: fixed(s.f1),
    }));
const kindTable = Object.keys(all.byKind).map((kind) => ({
  kind,
  ...Object.fromEntries(
    [["whole set", all], ...Object.entries(parts)].map(([part, result]) => {
      const k = (result as typeof all).byKind[kind];
      return [part, k ? `${fixed(k.recall)} (${k.found}/${k.labels})` : "-"];
    }),
  ),
}));
const partTable = Object.entries({ "whole set": { samples: samples.length, ...all }, ...parts }).map(
  ([part, result]) => {
    const s = result.byType.ALL;
    return {
      part,
      samples: result.samples,
      tp: s?.tp,
      fp: s?.fp,
      fn: s?.fn,
      precision: s && fixed(s.precision),
      recall: s && fixed(s.recall),
    };
  },
);

const report = {
  date: new Date().toISOString(),
  samples: {
    total: samples.length,
    bySource: Object.fromEntries(
      ["handwritten", "generated", "general", "holdout"].map((source) => [
        source,
        samples.filter((s) => s.source === source).length,
      ]),
    ),
  },
  overall: all.byType.ALL,
  byType: all.byType,
  byKind: all.byKind,
  parts: Object.fromEntries(
    Object.entries(parts).map(([part, r]) => [
      part,
      { samples: r.samples, overall: r.byType.ALL, byType: r.byType, byKind: r.byKind },
    ]),
  ),
  throughput: { mbPerSecond, mbPerSecondWall, megabytes, cpuSeconds, seconds, entities },
  targets: {
    recallAtLeast095: (all.byType.ALL?.recall ?? 0) >= 0.95,
    precisionAtLeast090: (all.byType.ALL?.precision ?? 0) >= 0.9,
    atLeast10MBps: mbPerSecond >= 10,
  },
  misses: all.misses,
};
const resultsFile = saveResults("phi", report);

console.log(`PHI detector on ${samples.length} labelled snippets ${JSON.stringify(report.samples.bySource)}`);
console.log("Whole set, per type:");
console.table(typeTable(all));
console.log("Per part (held-out parts never tuned against):");
console.table(partTable);
console.log("Recall per kind of the general-domain labels:");
console.table(kindTable);
console.log(
  `Throughput: ${mbPerSecond.toFixed(1)} MB/s on one core (${megabytes.toFixed(1)} MB in ${cpuSeconds.toFixed(2)} s of CPU; ${mbPerSecondWall.toFixed(1)} MB/s by the wall clock)`,
);
console.log("Targets", report.targets);
console.log(`Results written to ${resultsFile}`);
