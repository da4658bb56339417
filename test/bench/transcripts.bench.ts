import "./quiet-logs";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { routes } from "../../functions/routes";
import { signIn } from "../../infra/local/sign-in";
import { readDemoUsers } from "../../infra/local/stack";
import { routeLimits } from "../../shared/http/route";
import { detectPhiViaComprehend, splitForDetection } from "../../shared/phi";
import { evaluationSet } from "../phi-eval/dataset";
import { runLoad } from "./http-load";
import { saveResults } from "./results";
import { startBenchStack } from "./stack";

/**
 * `npm run bench:transcripts`: a 1 MB transcript through `PUT …/transcript` on the local stack (HTTPS
 * gateway, local DetectPHI endpoint, S3, DynamoDB), end to end, and its PHI detection alone at several
 * concurrencies. Locally the detector runs in this process, so concurrency cannot beat one core here;
 * in the cloud the chunks go to Comprehend Medical, where it overlaps their latency. Results:
 * test/bench/results/transcripts.json.
 */
const MAX_BYTES = 1_000_000;
/** Comprehend Medical's default quota for DetectPHI: characters per second per account (raisable). */
const DEFAULT_CHARACTERS_PER_SECOND = 40_000;

const stack = await startBenchStack();
try {
  const coach = readDemoUsers(stack.dir).find((user) => user.email === "coach1@demo.example");
  if (!coach) throw new Error("demo user missing");
  const token = await signIn(stack.endpoints.userPoolClientId, coach);
  const ca = readFileSync(join(stack.dir, "tls", "cert.pem"));
  const url = stack.endpoints.apiUrl;
  const call = (method: string, path: string, body: unknown) =>
    new Promise<Record<string, string>>((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify(body));
      request(
        `${url}${path}`,
        {
          method,
          ca,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
        },
      )
        .on("error", reject)
        .end(payload);
    });

  const { clientId } = await call("POST", "/clients", { name: "Bench Transcript Client" });
  for (const purpose of ["coaching", "ai_processing"])
    await call("PUT", `/clients/${clientId}/consents/${purpose}`, { version: "1" });
  const { sessionId } = await call("POST", `/clients/${clientId}/sessions`, {
    startsAt: "2026-11-01T10:00:00Z",
    durationMinutes: 60,
    type: "coaching",
  });

  // The labelled evaluation snippets (names, dates, phones …), repeated to just under 1 MB.
  const corpus = evaluationSet()
    .map((sample) => sample.text)
    .join("\n");
  let text = corpus.repeat(Math.ceil(MAX_BYTES / Buffer.byteLength(corpus)));
  while (Buffer.byteLength(text) > MAX_BYTES) text = text.slice(0, text.lastIndexOf("\n"));
  const bytes = Buffer.byteLength(text);
  const chunks = splitForDetection(text).length;

  const path = `/clients/${clientId}/sessions/${sessionId}/transcript`;
  const upload = (total: number) =>
    runLoad({
      url,
      ca,
      concurrency: 1,
      total,
      maxSeconds: 600,
      expectStatus: 200,
      next: () => ({ method: "PUT", path, token, body: { text } }),
    });
  await upload(1); // warm-up: first detection, first data key, first version
  const endToEnd = await upload(5);
  if (endToEnd.errors > 0) throw new Error(`${endToEnd.errors} uploads failed`);

  const detection = [];
  for (const concurrency of [1, 4, 8]) {
    const started = performance.now();
    const entities = await detectPhiViaComprehend(text, { deadline: Date.now() + 600_000, concurrency });
    detection.push({ concurrency, ms: performance.now() - started, entities: entities.length });
  }

  const report = {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
    transcript: { bytes, characters: text.length, chunks },
    upload: { runs: endToEnd.requests, p50Ms: endToEnd.p50, maxMs: endToEnd.p99 },
    detectionOnly: detection,
    cloud: {
      routeTimeoutSeconds: routeLimits(routes.uploadTranscript).timeoutSeconds,
      secondsOfDefaultDetectPhiQuota: text.length / DEFAULT_CHARACTERS_PER_SECOND,
    },
  };
  const resultsFile = saveResults("transcripts", report);
  console.log(
    `\nA ${(bytes / 1e6).toFixed(2)} MB transcript (${chunks} DetectPHI chunks) on the local stack`,
  );
  console.table([
    { stage: "PUT …/transcript end to end (p50)", ms: endToEnd.p50.toFixed(0) },
    { stage: "PUT …/transcript end to end (max of 5)", ms: endToEnd.p99.toFixed(0) },
    ...detection.map((d) => ({
      stage: `PHI detection alone, ${d.concurrency} in flight`,
      ms: d.ms.toFixed(0),
    })),
  ]);
  console.log(
    `In the cloud, ${text.length} characters use ${report.cloud.secondsOfDefaultDetectPhiQuota.toFixed(1)} s of DetectPHI's default 40,000 characters/s quota (the route's timeout is ${report.cloud.routeTimeoutSeconds} s).`,
  );
  console.log(`Results written to ${resultsFile}`);
} finally {
  await stack.stop();
}
