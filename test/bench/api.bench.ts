import "./quiet-logs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { signIn } from "../../infra/local/sign-in";
import { readDemoUsers } from "../../infra/local/stack";
import { awsCallCounts, resetAwsCallCounts } from "../../shared/aws";
import { measureBundles } from "./bundles";
import { runLoad } from "./http-load";
import { RESULTS_DIR, saveResults } from "./results";
import { startBenchStack } from "./stack";

/**
 * `npm run bench`: latency and throughput of GET /clients/{id} and POST /clients through the local
 * HTTPS gateway at concurrency 1 and 16, AWS calls per request by service (counted in the SDK
 * middleware stack), and each function's bundle size and import time. Results: test/bench/results/api.json.
 */

const stack = await startBenchStack();
const { dir } = stack;
try {
  const coach = readDemoUsers(dir).find((user) => user.email === "coach1@demo.example");
  if (!coach) throw new Error("demo user missing");
  const token = await signIn(stack.endpoints.userPoolClientId, coach);
  const ca = readFileSync(join(dir, "tls", "cert.pem"));
  const url = stack.endpoints.apiUrl;
  const body = {
    name: "Bench Client",
    email: "bench@patients.example",
    conditions: ["none"],
    healthGoals: ["sleep"],
  };

  const seed = await runLoad({
    url,
    ca,
    concurrency: 1,
    total: 1,
    maxSeconds: 10,
    expectStatus: 201,
    next: () => ({ method: "POST", path: "/clients", token, body }),
  });
  if (seed.errors) throw new Error("could not create the benchmark client");
  const listed = await fetchFirstClientId(url, ca, token);

  const scenarios = [
    { name: "GET /clients/{id}", method: "GET", path: `/clients/${listed}`, status: 200, body: undefined },
    { name: "POST /clients", method: "POST", path: "/clients", status: 201, body },
  ];
  const rows = [];
  for (const scenario of scenarios) {
    // Warm up (cold caches, JIT, first KMS Decrypt) before measuring.
    await runLoad({
      url,
      ca,
      concurrency: 4,
      total: 40,
      maxSeconds: 20,
      expectStatus: scenario.status,
      next: () => ({ ...scenario, token }),
    });
    for (const concurrency of [1, 16]) {
      resetAwsCallCounts();
      const result = await runLoad({
        url,
        ca,
        concurrency,
        total: concurrency === 1 ? 300 : 1200,
        maxSeconds: 60,
        expectStatus: scenario.status,
        next: () => ({ method: scenario.method, path: scenario.path, token, body: scenario.body }),
      });
      const perRequest = Object.fromEntries(
        Object.entries(awsCallCounts()).map(([call, count]) => [
          call,
          Number((count / result.requests).toFixed(2)),
        ]),
      );
      rows.push({ scenario: scenario.name, concurrency, ...result, awsCallsPerRequest: perRequest });
    }
  }
  const bundles = await measureBundles(join(RESULTS_DIR, "bundles"));
  const warmRead = rows.find((row) => row.scenario.startsWith("GET") && row.concurrency === 1);
  const report = {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
    scenarios: rows,
    bundles,
    targets: {
      warmReadMakesNoKmsCall: !Object.keys(warmRead?.awsCallsPerRequest ?? {}).some((call) =>
        call.startsWith("kms:"),
      ),
      bundlesUnder1MB: bundles.every((bundle) => bundle.bytes < 1024 * 1024),
      bundlesUnder500KB: bundles.every((bundle) => bundle.bytes < 500 * 1024),
    },
  };
  const resultsFile = saveResults("api", report);

  console.log("\nAPI through the local HTTPS gateway");
  console.table(
    rows.map((row) => ({
      scenario: row.scenario,
      concurrency: row.concurrency,
      requests: row.requests,
      errors: row.errors,
      "p50 ms": row.p50.toFixed(1),
      "p99 ms": row.p99.toFixed(1),
      "req/s": row.rps.toFixed(0),
      "AWS calls / request": Object.entries(row.awsCallsPerRequest)
        .map(([k, v]) => `${k}=${v}`)
        .join(" "),
    })),
  );
  console.log("Function bundles (same esbuild settings as the CDK app)");
  console.table(
    bundles.map((b) => ({
      function: b.function,
      KB: (b.bytes / 1024).toFixed(0),
      "import ms": b.importMs.toFixed(0),
    })),
  );
  console.log("Targets", report.targets);
  console.log(`Results written to ${resultsFile}`);
} finally {
  await stack.stop();
}

async function fetchFirstClientId(url: string, ca: Buffer, token: string): Promise<string> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    request(`${url}/clients?limit=1`, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString()).items[0].clientId));
    })
      .on("error", reject)
      .end();
  });
}
