import { Agent, request } from "node:https";

/** One HTTPS request of the smoke test, and what came back (header names lower-case, as Node gives them). */
export type SmokeRequest = {
  method: string;
  path: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
};
export type SmokeResponse = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
};
export type Send = (req: SmokeRequest) => Promise<SmokeResponse>;

/**
 * Sends requests to the API at `apiUrl` over TLS 1.2+ (the deployed API's floor). `ca` is the local stack's
 * self-signed certificate; in the cloud the system's trust store is used.
 */
export function httpsSender(apiUrl: string, ca?: Buffer): Send {
  const agent = new Agent({ keepAlive: true, minVersion: "TLSv1.2", ...(ca && { ca }) });
  const base = apiUrl.replace(/\/+$/, "");
  return (req) =>
    new Promise((resolve, reject) => {
      const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
      const outgoing = request(
        `${base}${req.path}`,
        {
          method: req.method,
          agent,
          timeout: 30_000,
          headers: {
            ...(payload && { "content-type": "application/json" }),
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
            resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
          });
        },
      );
      outgoing.on("timeout", () => outgoing.destroy(new Error("no answer within 30 s")));
      outgoing.on("error", reject);
      if (payload) outgoing.write(payload);
      outgoing.end();
    });
}
