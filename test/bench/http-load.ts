import { Agent, request } from "node:https";

/** A bounded closed-loop load generator: `concurrency` workers, `total` requests, stop at `maxSeconds`. */
export type LoadResult = {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  rps: number;
};

export async function runLoad(options: {
  url: string;
  ca: Buffer;
  concurrency: number;
  total: number;
  maxSeconds: number;
  next: (index: number) => { method: string; path: string; token: string; body?: unknown };
  expectStatus: number;
}): Promise<LoadResult> {
  const agent = new Agent({ ca: options.ca, keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.maxSeconds * 1000;

  const once = (index: number) =>
    new Promise<void>((resolve) => {
      const spec = options.next(index);
      const body = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
      const t0 = performance.now();
      const req = request(
        `${options.url}${spec.path}`,
        {
          method: spec.method,
          agent,
          headers: {
            authorization: `Bearer ${spec.token}`,
            ...(body && { "content-type": "application/json" }),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - t0);
            if (res.statusCode !== options.expectStatus) errors++;
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      if (body) req.write(body);
      req.end();
    });

  const worker = async () => {
    while (issued < options.total && performance.now() < deadline) await once(issued++);
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    seconds,
    p50: at(0.5),
    p99: at(0.99),
    rps: latencies.length / seconds,
  };
}
