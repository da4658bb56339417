import { detectPhi } from "../../shared/phi/detector";
import { evaluationSet } from "../phi-eval/dataset";
import { score } from "../phi-eval/score";
import { saveResults } from "./results";

/**
 * `npm run bench:phi`: precision, recall and F1 of the local PHI detector per type and overall, on the
 * whole evaluation set and on the held-out part alone, and its throughput in MB/s on one core.
 * Results: test/bench/results/phi.json.
 */
const samples = evaluationSet();
const all = score(samples, detectPhi);
const holdout = score(
  samples.filter((sample) => sample.source === "holdout"),
  detectPhi,
);

// Throughput: the set's text, repeated to ~16 MB, detected in 1 MB documents (one core, this process).
const corpus = samples.map((sample) => sample.text).join("\n");
const document = corpus.repeat(Math.ceil(1_000_000 / Buffer.byteLength(corpus)));
const documentBytes = Buffer.byteLength(document);
detectPhi(document); // warm-up (JIT, dictionaries)
const runs = 16;
const started = performance.now();
let entities = 0;
for (let i = 0; i < runs; i++) entities += detectPhi(document).length;
const seconds = (performance.now() - started) / 1000;
const mbPerSecond = (documentBytes * runs) / 1_000_000 / seconds;

const table = (result: typeof all) =>
  Object.entries(result.byType)
    .sort(([a], [b]) => (a === "ALL" ? 1 : b === "ALL" ? -1 : a.localeCompare(b)))
    .map(([type, s]) => ({
      type,
      tp: s.tp,
      fp: s.fp,
      fn: s.fn,
      precision: s.precision.toFixed(3),
      recall: s.recall.toFixed(3),
      f1: s.f1.toFixed(3),
    }));

const report = {
  date: new Date().toISOString(),
  samples: {
    total: samples.length,
    bySource: Object.fromEntries(
      ["handwritten", "generated", "holdout"].map((source) => [
        source,
        samples.filter((s) => s.source === source).length,
      ]),
    ),
  },
  overall: all.byType.ALL,
  byType: all.byType,
  holdout: holdout.byType,
  throughput: { mbPerSecond, megabytes: (documentBytes * runs) / 1_000_000, seconds, entities },
  targets: {
    recallAtLeast095: (all.byType.ALL?.recall ?? 0) >= 0.95,
    precisionAtLeast085: (all.byType.ALL?.precision ?? 0) >= 0.85,
    atLeast10MBps: mbPerSecond >= 10,
  },
  misses: all.misses,
};
const resultsFile = saveResults("phi", report);

console.log(`PHI detector on ${samples.length} labelled snippets ${JSON.stringify(report.samples.bySource)}`);
console.table(table(all));
console.log("Held-out snippets only (never tuned against):");
console.table(table(holdout));
console.log(
  `Throughput: ${mbPerSecond.toFixed(1)} MB/s on one core (${report.throughput.megabytes.toFixed(1)} MB in ${seconds.toFixed(2)} s)`,
);
console.log("Targets", report.targets);
console.log(`Results written to ${resultsFile}`);
