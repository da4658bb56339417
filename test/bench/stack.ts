import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, type StackOptions, startLocalStack } from "../../infra/local/stack";

/**
 * A fresh local stack on free ports in a temporary directory, for one benchmark run. `inMemoryFs` puts it
 * on tmpfs where there is one: DynamoDB Local's SQLite syncs every write, which on a VM disk caps bulk
 * fixtures at a few hundred items per second (about ten times more on tmpfs). Such a run must delete
 * its directory afterwards (`rmSync(stack.dir, …)`): it holds memory. `streamPollMs` as in StackOptions.
 */
export async function startBenchStack(
  options: { inMemoryFs?: boolean } & Pick<StackOptions, "streamPollMs"> = {},
) {
  const root = options.inMemoryFs && existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(root, "coachvault-bench-"));
  const ports = await freePorts();
  return {
    dir,
    ...(await startLocalStack({
      dir,
      fresh: true,
      ports,
      ...(options.streamPollMs !== undefined && { streamPollMs: options.streamPollMs }),
    })),
  };
}
