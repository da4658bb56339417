import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { inject } from "vitest";
import { signIn } from "../../infra/local/sign-in";
import { readDemoUsers, readEndpoints, useLocalStack } from "../../infra/local/stack";

/** The running test stack: its endpoints, its demo users, signed-in tokens, and an HTTPS client for it. */
export function testStack() {
  const dir = inject("stackDir");
  const endpoints = readEndpoints(dir);
  useLocalStack(endpoints);
  const users = readDemoUsers(dir);
  const agent = new Agent({
    ca: readFileSync(join(dir, "tls", "cert.pem")),
    keepAlive: true,
    minVersion: "TLSv1.3",
  });
  const tokens = new Map<string, Promise<string>>();

  const token = (email: string) => {
    const user = users.find((candidate) => candidate.email === email);
    if (!user) throw new Error(`no demo user ${email}`);
    if (!tokens.has(email)) tokens.set(email, signIn(endpoints.userPoolClientId, user));
    return tokens.get(email) as Promise<string>;
  };

  type Options = {
    token?: string;
    body?: unknown;
    rawBody?: string | Buffer;
    headers?: Record<string, string>;
  };
  const api = (method: string, path: string, options: Options = {}) =>
    new Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      text: string;
      json: any;
    }>((resolve, reject) => {
      const payload =
        options.rawBody ??
        (options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body)));
      const req = request(
        `${endpoints.apiUrl}${path}`,
        {
          method,
          agent,
          headers: {
            ...(payload !== undefined && { "content-type": "application/json" }),
            ...(options.token && { authorization: `Bearer ${options.token}` }),
            ...options.headers,
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
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });

  return { dir, endpoints, users, token, api, logFile: inject("stackLogFile") };
}
