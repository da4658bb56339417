import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where every benchmark writes its JSON results (git-ignored). */
export const RESULTS_DIR = join(process.cwd(), "test", "bench", "results");

/** Writes `<name>.json` under the results folder and returns its path. */
export function saveResults(name: string, report: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  return file;
}
