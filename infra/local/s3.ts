import { mkdirSync } from "node:fs";
import { join } from "node:path";
import S3rver from "s3rver";

/** s3rver in-process, storing objects under `<dir>/s3`. Bodies must be sent as Buffers (see design.md). */
export async function startS3rver(dir: string, port: number) {
  const directory = join(dir, "s3");
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ port, address: "127.0.0.1", directory, silent: true });
  await server.run();
  return server;
}
