import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startChild, waitForPort } from "./processes";

/** cognito-local, run as a child with its data under `<dir>/cognito/.cognito`. */
export async function startCognitoLocal(dir: string, port: number) {
  const packageDir = dirname(createRequire(import.meta.url).resolve("cognito-local/package.json"));
  const cwd = join(dir, "cognito");
  mkdirSync(cwd, { recursive: true });
  // Timestamps to the millisecond, as Cognito answers them (see cognito-dates.cjs).
  const preciseDates = fileURLToPath(new URL("./cognito-dates.cjs", import.meta.url));
  const child = startChild(
    process.execPath,
    ["--require", preciseDates, join(packageDir, "lib", "bin", "start.js")],
    {
      cwd,
      logFile: join(dir, "logs", "cognito.log"),
      env: { PORT: String(port), HOST: "127.0.0.1" },
    },
  );
  await waitForPort(port, child);
  return child;
}
