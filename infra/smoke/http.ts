import { Agent, request } from "node:https";

/**
 * One HTTPS request to the API (the smoke test's, and the tests' through test/support/stack.ts), and what came
 * back (header names lower-case, as Node gives them). `rawBody` is sent as is (hostile-input tests).
 */
export type SmokeRequest = {
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
};
export type SmokeResponse = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
};
export type Send = (req: SmokeRequest) => Promise<SmokeResponse>;

/**
 * Sends requests to the API at `apiUrl` over TLS 1.2+ (the deployed API's floor; the tests ask the local
 * stack for 1.3). `ca` is the local stack's self-signed certificate; in the cloud the system's trust store is used.
 */
export function httpsSender(
  apiUrl: string,
  ca?: Buffer,
  minVersion: "TLSv1.2" | "TLSv1.3" = "TLSv1.2",
): Send {
  const agent = new Agent({ keepAlive: true, minVersion, ...(ca && { ca }) });
  const base = apiUrl.replace(/\/+$/, "");
  return (req) =>
    new Promise((resolve, reject) => {
      const payload =
        req.rawBody ?? (req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body)));
      const outgoing = request(
        `${base}${req.path}`,
        {
          method: req.method,
          agent,
          timeout: 30_000,
          headers: {
            ...(payload !== undefined && { "content-type": "application/json" }),
            ...(req.token && { authorization: `Bearer ${req.token}` }),
            ...req.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      outgoing.on("timeout", () => outgoing.destroy(new Error("no answer within 30 s")));
      outgoing.on("error", reject);
      if (payload !== undefined) outgoing.write(payload);
      outgoing.end();
    });
}
