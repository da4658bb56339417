import { beforeAll, describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { SECURITY_HEADERS } from "../../shared/http/security-headers";
import { JANE } from "../support/fixtures";
import { testStack } from "../support/stack";

/** Clients end to end: real sign-in (password + TOTP) against cognito-local, HTTPS through the local gateway. */
const stack = testStack();
const { api } = stack;

let coach1: string;
let coach2: string;
let admin: string;
let otherCoach: string;

beforeAll(async () => {
  [coach1, coach2, admin, otherCoach] = await Promise.all([
    stack.token("coach1@demo.example"),
    stack.token("coach2@demo.example"),
    stack.token("admin@demo.example"),
    stack.token("coach@other.example"),
  ]);
});

function expectSecurityHeaders(headers: Record<string, unknown>) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS))
    expect(headers[name.toLowerCase()]).toBe(value);
}

describe("public routes", () => {
  it("GET /health answers 200 with every security header", async () => {
    const res = await api("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "ok" });
    expectSecurityHeaders(res.headers);
  });

  it("GET /openapi.json is an OpenAPI 3.1 document listing every manifest route", async () => {
    const res = await api("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe("3.1.0");
    expect(Object.keys(res.json.paths).sort()).toEqual(
      [...new Set(routeList.map((route) => route.path))].sort(),
    );
    const create = res.json.paths["/clients"].post;
    expect(create.requestBody.content["application/json"].schema.additionalProperties).toBe(false);
    expect(create.security).toEqual([{ cognito: [] }]);
  });

  it("unknown paths get 404 and wrong methods 405, both with security headers", async () => {
    const missing = await api("GET", "/nope");
    expect(missing.status).toBe(404);
    expectSecurityHeaders(missing.headers);
    const wrong = await api("DELETE", "/clients");
    expect(wrong.status).toBe(405);
    expectSecurityHeaders(wrong.headers);
  });
});

describe("clients", () => {
  let clientId: string;

  it("a coach creates a client and reads every field back", async () => {
    const created = await api("POST", "/clients", { token: coach1, body: JANE });
    expect(created.status).toBe(201);
    expectSecurityHeaders(created.headers);
    expect(created.json).toMatchObject({ ...JANE, status: "active", version: 1 });
    clientId = created.json.clientId;
    const read = await api("GET", `/clients/${clientId}`, { token: coach1 });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ ...JANE, clientId, version: 1 });
  });

  it("another org's coach gets exactly the answer a missing client gets", async () => {
    const foreign = await api("GET", `/clients/${clientId}`, { token: otherCoach });
    const missing = await api("GET", `/clients/${crypto.randomUUID()}`, { token: otherCoach });
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.json.error.code).toBe(missing.json.error.code);
    expect(foreign.json.error.message).toBe(missing.json.error.message);
    expect(Object.keys(foreign.headers).sort()).toEqual(Object.keys(missing.headers).sort());
    const patch = await api("PATCH", `/clients/${clientId}`, {
      token: otherCoach,
      body: { version: 1, name: "X Y" },
    });
    expect(patch.status).toBe(404);
    const list = await api("GET", "/clients", { token: otherCoach });
    expect(list.status).toBe(200);
    expect(list.json.items.map((c: { clientId: string }) => c.clientId)).not.toContain(clientId);
  });

  it("a coach of the same org who is not assigned to the client cannot see it", async () => {
    expect((await api("GET", `/clients/${clientId}`, { token: coach2 })).status).toBe(404);
  });

  it("an admin sees that the client exists, never its PHI, and cannot create clients", async () => {
    const read = await api("GET", `/clients/${clientId}`, { token: admin });
    expect(read.status).toBe(200);
    expect(Object.keys(read.json).sort()).toEqual([
      "clientId",
      "coaches",
      "createdAt",
      "status",
      "updatedAt",
      "version",
    ]);
    const list = await api("GET", "/clients?limit=50", { token: admin });
    expect(list.json.items.length).toBeGreaterThan(0);
    for (const item of list.json.items) {
      for (const field of Object.keys(JANE)) expect(item).not.toHaveProperty(field);
    }
    expect((await api("POST", "/clients", { token: admin, body: { name: "A B" } })).status).toBe(403);
  });

  it("PATCH needs the current version: a stale version is a 409 and changes nothing", async () => {
    const first = await api("PATCH", `/clients/${clientId}`, {
      token: coach1,
      body: { version: 1, phone: "+1 555 999 0000" },
    });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ version: 2, phone: "+1 555 999 0000", name: JANE.name });
    const stale = await api("PATCH", `/clients/${clientId}`, {
      token: coach1,
      body: { version: 1, phone: "+1 555 111 2222" },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe("VERSION_CONFLICT");
    const read = await api("GET", `/clients/${clientId}`, { token: coach1 });
    expect(read.json).toMatchObject({ version: 2, phone: "+1 555 999 0000", email: JANE.email });
  });

  it("concurrent PATCHes of one version: exactly one wins", async () => {
    const results = await Promise.all(
      ["+1 555 000 0001", "+1 555 000 0002", "+1 555 000 0003"].map((phone) =>
        api("PATCH", `/clients/${clientId}`, { token: coach1, body: { version: 2, phone } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
  });

  it("lists page with an opaque cursor and refuse a cursor that was tampered with", async () => {
    const token = coach2;
    const created: string[] = [];
    for (const name of ["Pat One", "Pat Two", "Pat Three"]) {
      const res = await api("POST", "/clients", { token, body: { name } });
      expect(res.status).toBe(201);
      created.push(res.json.clientId);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = cursor ? `limit=2&cursor=${encodeURIComponent(cursor)}` : "limit=2";
      const page = await api("GET", `/clients?${query}`, { token });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items.map((c: { clientId: string }) => c.clientId));
      cursor = page.json.nextCursor;
      pages++;
    } while (cursor && pages < 500);
    expect(cursor).toBeUndefined();
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(created));
    for (const bad of ["not-base64!", Buffer.from('{"sk":"ORG#other"}').toString("base64url"), "e30"]) {
      const res = await api("GET", `/clients?cursor=${encodeURIComponent(bad)}`, { token });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("INVALID_CURSOR");
    }
  });
});
