import { connect } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { testStack } from "../support/stack";
import { forge, tamper, unsigned } from "../support/tokens";

/** Hostile input: every case gets a clear 4xx with a stable code, nothing is stored, nothing leaks. */
const stack = testStack();
const { api } = stack;
let coach: string;

beforeAll(async () => {
  coach = await stack.token("coach2@demo.example");
});

async function clientCount(token: string) {
  const res = await api("GET", "/clients?limit=50", { token });
  return res.json.items.length as number;
}

describe("bodies", () => {
  const cases: [string, Parameters<typeof api>[2], number, string][] = [
    ["unknown field", { body: { name: "Al Bo", ssn: "123-45-6789" } }, 400, "VALIDATION_FAILED"],
    ["wrong type", { body: { name: 42 } }, 400, "VALIDATION_FAILED"],
    ["missing required field", { body: { email: "x@y.example" } }, 400, "VALIDATION_FAILED"],
    ["bad email", { body: { name: "Al Bo", email: "not-an-email" } }, 400, "VALIDATION_FAILED"],
    ["future birth date", { body: { name: "Al Bo", dateOfBirth: "2999-01-01" } }, 400, "VALIDATION_FAILED"],
    [
      "nested unknown field",
      {
        body: {
          name: "Al Bo",
          address: { line1: "1 A St", city: "B", postalCode: "12345", country: "US", evil: 1 },
        },
      },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "malformed JSON",
      { rawBody: '{"name": "Al', headers: { "content-type": "application/json" } },
      400,
      "MALFORMED_JSON",
    ],
    [
      "__proto__ key",
      {
        rawBody: '{"name":"Al Bo","__proto__":{"admin":true}}',
        headers: { "content-type": "application/json" },
      },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "constructor key",
      {
        rawBody: '{"name":"Al Bo","constructor":{"prototype":{}}}',
        headers: { "content-type": "application/json" },
      },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "wrong content type",
      { rawBody: "name=Al", headers: { "content-type": "application/x-www-form-urlencoded" } },
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    ],
    [
      "body over the function limit",
      { body: { name: "Al Bo", conditions: ["x".repeat(70_000)] } },
      413,
      "PAYLOAD_TOO_LARGE",
    ],
    ["array instead of object", { body: [1, 2, 3] }, 400, "VALIDATION_FAILED"],
    [
      "null body",
      { rawBody: "null", headers: { "content-type": "application/json" } },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "deeply nested",
      { rawBody: `${"[".repeat(5000)}${"]".repeat(5000)}`, headers: { "content-type": "application/json" } },
      400,
      "VALIDATION_FAILED",
    ],
  ];

  it.each(cases)(
    "%s is refused with a clear code, nothing stored, no value echoed",
    async (_name, options, status, code) => {
      const before = await clientCount(coach);
      const res = await api("POST", "/clients", { token: coach, ...options });
      expect(res.status).toBe(status);
      expect(res.json.error.code).toBe(code);
      expect(res.text).not.toMatch(/123-45-6789|not-an-email|x@y\.example|xxxxxxxx|admin|Al Bo|at \w+ \(/);
      expect(await clientCount(coach)).toBe(before);
    },
  );

  it("a body over API Gateway's 10 MB limit is refused at the gateway", async () => {
    const res = await api("POST", "/clients", {
      token: coach,
      rawBody: Buffer.alloc(11 * 1024 * 1024, 0x20),
    });
    expect(res.status).toBe(413);
  });

  it("validation errors name field and rule", async () => {
    const res = await api("POST", "/clients", { token: coach, body: { name: 42, ssn: "123-45-6789" } });
    expect(res.json.error.details).toEqual([
      { field: "body.name", rule: "type:string" },
      { field: "body.ssn", rule: "unknown_field" },
    ]);
  });

  it("unknown query parameters and bad path parameters are 400", async () => {
    expect((await api("GET", "/clients?evil=1", { token: coach })).status).toBe(400);
    expect((await api("GET", "/clients?limit=1000", { token: coach })).status).toBe(400);
    expect((await api("GET", "/clients/..%2F..%2Fetc", { token: coach })).status).toBe(400);
    expect((await api("GET", "/clients/%E0%A4%A", { token: coach })).status).toBe(400);
  });
});

describe("tokens", () => {
  it.each([
    ["no token", async () => undefined],
    ["garbage", async () => "garbage"],
    ["expired", async () => forge(coach, { exp: Math.floor(Date.now() / 1000) - 60 })],
    [
      "wrong issuer",
      async () => forge(coach, { iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_evil" }),
    ],
    ["wrong client", async () => forge(coach, { aud: "some-other-client" })],
    ["access token instead of ID token", async () => forge(coach, { token_use: "access" })],
    ["alg none", async () => unsigned(coach)],
    ["tampered signature (org switched)", async () => tamper(coach, { "custom:orgId": "other" })],
    ["unknown key id", async () => forge(coach, {}, { kid: "someone-else" })],
  ])("%s → 401", async (_name, make) => {
    const token = await make();
    const res = await api("GET", "/clients", token ? { token } : {});
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("UNAUTHORIZED");
  });

  it("a valid token whose user has no role group is refused", async () => {
    const res = await api("GET", "/clients", { token: await forge(coach, { "cognito:groups": [] }) });
    expect(res.status).toBe(403);
  });
});

describe("transport", () => {
  const handshake = (version: "TLSv1.2" | "TLSv1.3") =>
    new Promise<string>((resolve) => {
      const url = new URL(stack.endpoints.apiUrl);
      const socket = connect({
        host: "127.0.0.1",
        port: Number(url.port),
        minVersion: version,
        maxVersion: version,
        rejectUnauthorized: false,
      });
      socket.once("secureConnect", () => {
        resolve(socket.getProtocol() ?? "none");
        socket.end();
      });
      socket.once("error", () => resolve("refused"));
    });

  it("refuses a TLS 1.2 handshake and accepts TLS 1.3", async () => {
    expect(await handshake("TLSv1.2")).toBe("refused");
    expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
  });

  it("CORS answers only the configured app origin", async () => {
    const allowed = await api("GET", "/health", { headers: { origin: "https://app.test.example" } });
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.test.example");
    const other = await api("GET", "/health", { headers: { origin: "https://evil.example" } });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    const preflight = await api("OPTIONS", "/clients", { headers: { origin: "https://evil.example" } });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
