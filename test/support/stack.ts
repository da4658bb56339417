import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { signIn } from "../../infra/local/sign-in";
import { readDemoUsers, readEndpoints, useLocalStack } from "../../infra/local/stack";
import { httpsSender } from "../../infra/smoke/http";

/** The running test stack: its endpoints, its demo users, signed-in tokens, and an HTTPS client for it. */
export function testStack() {
  const dir = inject("stackDir");
  const endpoints = readEndpoints(dir);
  useLocalStack(endpoints);
  const users = readDemoUsers(dir);
  const send = httpsSender(endpoints.apiUrl, readFileSync(join(dir, "tls", "cert.pem")), "TLSv1.3");
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
    send({ method, path, ...options }) as Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      text: string;
      json: any;
    }>;

  /** A client with the given consents, one coaching session and one note, created through the API as `owner`. */
  async function clientWithRecords(owner: string, name: string, purposes: readonly string[]) {
    const clientId: string = (await api("POST", "/clients", { token: owner, body: { name } })).json.clientId;
    for (const purpose of purposes) {
      await api("PUT", `/clients/${clientId}/consents/${purpose}`, { token: owner, body: { version: "1" } });
    }
    const session = await api("POST", `/clients/${clientId}/sessions`, {
      token: owner,
      body: { startsAt: "2026-11-01T10:00:00Z", durationMinutes: 30, type: "coaching" },
    });
    const note = await api("POST", `/clients/${clientId}/notes`, {
      token: owner,
      body: { text: "Fixture note" },
    });
    return { clientId, sessionId: session.json.sessionId as string, noteId: note.json.noteId as string };
  }

  return { dir, endpoints, users, token, api, clientWithRecords, logFile: inject("stackLogFile") };
}
