import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { startChild, waitForPort } from "./processes";

/** DynamoDB Local 1.25: the jar shipped in the npm package amplify-dynamodb-simulator, run on Java 17. */
export async function startDynamoDbLocal(dir: string, port: number) {
  const jarDir = join(
    dirname(createRequire(import.meta.url).resolve("amplify-dynamodb-simulator/package.json")),
    "emulator",
  );
  const dataDir = join(dir, "dynamodb");
  mkdirSync(dataDir, { recursive: true });
  const child = startChild(
    "java",
    [
      `-Djava.library.path=${join(jarDir, "DynamoDBLocal_lib")}`,
      "-Xmx512m",
      "-jar",
      join(jarDir, "DynamoDBLocal.jar"),
      "-sharedDb",
      "-disableTelemetry",
      "-dbPath",
      dataDir,
      "-port",
      String(port),
    ],
    { cwd: dataDir, logFile: join(dir, "logs", "dynamodb.log") },
  );
  child.once("error", () => undefined);
  await waitForPort(port, child);
  return child;
}
