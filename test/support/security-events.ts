import { readFileSync } from "node:fs";

/** A security event line of the local stack's log (ids only, by design). */
export type SecurityEventLine = Record<string, unknown> & {
  securityEvent?: string;
  chain?: string;
  seq?: number;
};

/** Every security event the local stack has logged so far (its Lambda endpoint's jobs and the stream poller). */
export function securityEvents(logFile: string): SecurityEventLine[] {
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => line.includes('"securityEvent"'))
    .map((line) => JSON.parse(line) as SecurityEventLine);
}

/** The first logged security event that matches, waiting for it up to `waitMs` (the witness runs on a poll). */
export async function securityEventFor(
  logFile: string,
  match: (line: SecurityEventLine) => boolean,
  waitMs = 15_000,
): Promise<SecurityEventLine> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const found = securityEvents(logFile).find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("no such security event in the stack's log");
}
