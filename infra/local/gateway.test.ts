import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:https";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeList, routes } from "../../functions/routes";
import { GATEWAY_ERRORS } from "../../shared/http/errors";
import { preflightCorsHeaders, SECURITY_HEADERS } from "../../shared/http/security-headers";
import { startGateway } from "./gateway";
import { freePort } from "./processes";

/**
 * The local gateway's own answers (preflights, errors before any function runs) carry what the cloud's
 * OPTIONS methods and gateway responses carry (`infra/cloud/gateway-responses.ts`, checked in stack.test.ts).
 */
const dir = mkdtempSync(join(tmpdir(), "gateway-test-"));
const APP = "https://app.test.example";
const servers: Server[] = [];

async function gateway(allowedOrigins: string[]) {
  const port = await freePort();
  const server = await startGateway({
    dir,
    port,
    routes: routeList,
    allowedOrigins,
    loadHandler: async () => async () => ({ statusCode: 200, body: "{}" }),
  });
  servers.push(server);
  return (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, method, path, headers, rejectUnauthorized: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
}

const lower = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

let oneOrigin: Awaited<ReturnType<typeof gateway>>;
let twoOrigins: Awaited<ReturnType<typeof gateway>>;

beforeAll(async () => {
  oneOrigin = await gateway([APP]);
  twoOrigins = await gateway([APP, "https://admin.test.example"]);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe("local gateway: preflights and its own errors", () => {
  it("a preflight from an allowed origin gets the path's methods and the security headers", async () => {
    const answer = await oneOrigin("OPTIONS", "/clients", { origin: APP });
    expect(answer.status).toBe(204);
    const methods = routeList.filter((route) => route.path === "/clients").map((route) => route.method);
    expect(answer.headers).toMatchObject(
      lower({ ...SECURITY_HEADERS, ...preflightCorsHeaders(APP, methods) }),
    );
    expect(answer.headers.vary).toBe("Origin");
  });

  it("a preflight from another origin gets the security headers and no CORS (its Origin is never echoed)", async () => {
    for (const ask of [oneOrigin, twoOrigins]) {
      const answer = await ask("OPTIONS", routes.createNote.path.replace("{clientId}", "c1"), {
        origin: "https://evil.example",
      });
      expect(answer.status).toBe(204);
      expect(answer.headers).toMatchObject(lower(SECURITY_HEADERS));
      expect(JSON.stringify(answer.headers)).not.toContain("evil.example");
      expect(Object.keys(answer.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
    }
  });

  it("its errors are in the API's format with the security headers, and name the origin only when there is one", async () => {
    const single = await oneOrigin("GET", "/no-such-route", { origin: APP });
    expect(single.status).toBe(GATEWAY_ERRORS.notFound.status);
    expect(JSON.parse(single.body).error).toMatchObject({
      code: GATEWAY_ERRORS.notFound.code,
      message: GATEWAY_ERRORS.notFound.message,
    });
    expect(single.headers).toMatchObject(lower({ ...SECURITY_HEADERS, "Access-Control-Allow-Origin": APP }));
    const several = await twoOrigins("GET", "/no-such-route", { origin: APP });
    expect(several.status).toBe(GATEWAY_ERRORS.notFound.status);
    expect(several.headers).toMatchObject(lower(SECURITY_HEADERS));
    expect(several.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
