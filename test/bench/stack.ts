import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../infra/local/processes";
import { startLocalStack } from "../../infra/local/stack";

/** A fresh local stack on free ports in a temporary directory, for one benchmark run. */
export async function startBenchStack() {
  const dir = mkdtempSync(join(tmpdir(), "coachvault-bench-"));
  const ports = {
    api: await freePort(),
    dynamodb: await freePort(),
    s3: await freePort(),
    cognito: await freePort(),
    kms: await freePort(),
    comprehendMedical: await freePort(),
  };
  return { dir, ...(await startLocalStack({ dir, fresh: true, ports })) };
}
