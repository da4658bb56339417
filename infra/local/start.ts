import { parseArgs } from "node:util";
import { DEFAULT_PORTS, PORT_VARIABLES, type Ports, startLocalStack } from "./stack";

/**
 * `npm start`: the local stack in the foreground. `--fresh` starts from empty; `--dir` and the
 * `PORT` / `*_PORT` variables move it (tests and benchmarks run their own stacks side by side);
 * `STREAM_POLL_MS` sets how often stream jobs (the audit witness) poll (0: not at all);
 * `SCHEDULED_JOBS=off` keeps the scheduled jobs (checkpoints, identity sync) from running on their own.
 */
const { values } = parseArgs({
  options: { fresh: { type: "boolean", default: false }, dir: { type: "string", default: ".local" } },
});

const ports = Object.fromEntries(
  Object.entries(DEFAULT_PORTS).map(([service, fallback]) => [
    service,
    Number(process.env[PORT_VARIABLES[service as keyof Ports]] ?? fallback),
  ]),
) as Ports;

const stack = await startLocalStack({
  dir: values.dir ?? ".local",
  fresh: Boolean(values.fresh),
  ports,
  ...(process.env.ALLOWED_ORIGINS ? { allowedOrigins: process.env.ALLOWED_ORIGINS.split(",") } : {}),
  ...(process.env.STREAM_POLL_MS ? { streamPollMs: Number(process.env.STREAM_POLL_MS) } : {}),
  scheduledJobs: process.env.SCHEDULED_JOBS !== "off",
}).catch((error: unknown) => {
  console.error(
    `CoachVault local stack failed to start: ${error instanceof Error ? error.message : "unknown error"}`,
  );
  process.exit(1);
});

console.log(`CoachVault local API ready at ${stack.endpoints.apiUrl}`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await stack.stop();
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, shutdown);
