import { readFileSync } from "node:fs";

/**
 * The local stack's retryable failures and errors of a whole run, counted by function, level and code: a
 * 503 that a test saw only as a status then says where it came from in CI's output (the stack's log file
 * goes with the run's temporary folder). The log holds no PHI (the log-leak test reads the same file).
 */
export function stackLogSummary(logFile: string): string[] {
  const counts = new Map<string, number>();
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: { level?: string; message?: string; function_name?: string; code?: string };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const retryable = entry.message === "request failed, retryable";
    if (!retryable && entry.level !== "ERROR") continue;
    const key = `${entry.level} ${entry.function_name ?? "-"} ${entry.code ?? "-"} ${retryable ? "(503)" : JSON.stringify(entry.message)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${count}× ${key}`);
}
