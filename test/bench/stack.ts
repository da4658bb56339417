import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, startLocalStack } from "../../infra/local/stack";

/** A fresh local stack on free ports in a temporary directory, for one benchmark run. */
export async function startBenchStack() {
  const dir = mkdtempSync(join(tmpdir(), "coachvault-bench-"));
  const ports = await freePorts();
  return { dir, ...(await startLocalStack({ dir, fresh: true, ports })) };
}
