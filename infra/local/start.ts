import { parseArgs } from "node:util";
import { DEFAULT_PORTS, startLocalStack } from "./stack";

/**
 * `npm start`: the local stack in the foreground. `--fresh` starts from empty; `--dir` and the
 * `PORT` / `*_PORT` variables move it (tests and benchmarks run their own stacks side by side).
 */
const { values } = parseArgs({
  options: { fresh: { type: "boolean", default: false }, dir: { type: "string", default: ".local" } },
});

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = {
  api: port("PORT", DEFAULT_PORTS.api),
  dynamodb: port("DYNAMODB_PORT", DEFAULT_PORTS.dynamodb),
  s3: port("S3_PORT", DEFAULT_PORTS.s3),
  cognito: port("COGNITO_PORT", DEFAULT_PORTS.cognito),
  kms: port("KMS_PORT", DEFAULT_PORTS.kms),
  comprehendMedical: port("COMPREHEND_MEDICAL_PORT", DEFAULT_PORTS.comprehendMedical),
};

const stack = await startLocalStack({
  dir: values.dir ?? ".local",
  fresh: Boolean(values.fresh),
  ports,
  ...(process.env.ALLOWED_ORIGINS ? { allowedOrigins: process.env.ALLOWED_ORIGINS.split(",") } : {}),
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
