import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { ValidationError } from "../errors";
import { IDEMPOTENCY_KEY_HEADER, idempotencyScope, REPLAYED_HEADER, readIdempotencyKey } from "./idempotency";
import { openApiDocument } from "./openapi";
import { takesIdempotencyKey } from "./route";
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS } from "./security-headers";

const failureOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("Idempotency-Key header", () => {
  it("is optional, and taken as sent when it is 1 to 255 visible ASCII characters", () => {
    expect(readIdempotencyKey({})).toBeUndefined();
    expect(readIdempotencyKey({ "idempotency-key": "8e03978e-40d5-43e8-bc93-6894a57f9324" })).toBe(
      "8e03978e-40d5-43e8-bc93-6894a57f9324",
    );
    // The draft's sf-string form, quotes included, is one key like any other.
    expect(readIdempotencyKey({ "idempotency-key": '"abc-1"' })).toBe('"abc-1"');
    expect(readIdempotencyKey({ "idempotency-key": "k".repeat(255) })).toBe("k".repeat(255));
  });

  it("anything else is a 400 that names the header and never echoes its value", () => {
    const secret = "Jane Doe 1970-01-01";
    for (const value of ["", "k".repeat(256), secret, "tab\there", "é", "line\nbreak", "\u0000"]) {
      const error = failureOf(() => readIdempotencyKey({ "idempotency-key": value }));
      expect(error, JSON.stringify(value)).toBeInstanceOf(ValidationError);
      const details = (error as ValidationError).details;
      expect(details).toEqual([
        { field: "header:Idempotency-Key", rule: "1 to 255 visible ASCII characters" },
      ]);
      expect(JSON.stringify({ message: (error as Error).message, details })).not.toContain(secret);
    }
  });

  it("accepts exactly the strings of 1 to 255 characters between ! and ~ (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 300 }), (value) => {
        const valid = /^[!-~]{1,255}$/.test(value);
        const error = failureOf(() => readIdempotencyKey({ "idempotency-key": value }));
        expect(error === undefined).toBe(valid);
      }),
    );
  });
});

describe("key scope", () => {
  const route = { method: "POST", path: "/clients/{clientId}/notes" } as const;
  const alice = { orgId: "org-a", userId: "alice" };
  const base = idempotencyScope(route, alice, { clientId: "c1" }, "key-1");

  it("the same header value is another key for another org, user, route, method or record", () => {
    const others = [
      idempotencyScope(route, { orgId: "org-b", userId: "alice" }, { clientId: "c1" }, "key-1"),
      idempotencyScope(route, { orgId: "org-a", userId: "bob" }, { clientId: "c1" }, "key-1"),
      idempotencyScope(
        { ...route, path: "/clients/{clientId}/sessions" },
        alice,
        { clientId: "c1" },
        "key-1",
      ),
      idempotencyScope({ ...route, method: "PUT" }, alice, { clientId: "c1" }, "key-1"),
      idempotencyScope(route, alice, { clientId: "c2" }, "key-1"),
      idempotencyScope(route, alice, { clientId: "c1" }, "key-2"),
    ];
    const texts = new Set([base, ...others].map((scope) => JSON.stringify(scope)));
    expect(texts.size).toBe(others.length + 1);
  });

  it("is a tuple, so no separator in an id can make two scopes one (org `a#b` + user `c` vs org `a` + user `b#c`)", () => {
    const one = idempotencyScope(route, { orgId: "a#b", userId: "c" }, null, "k");
    const two = idempotencyScope(route, { orgId: "a", userId: "b#c" }, null, "k");
    expect(JSON.stringify(one)).not.toBe(JSON.stringify(two));
  });
});

describe("the manifest", () => {
  const writes = routeList.filter((route) => route.method === "POST" || route.method === "PUT");

  it("every POST and PUT takes an Idempotency-Key unless its entry says why not (no route can forget)", () => {
    for (const route of writes) {
      const off = route.idempotency && "off" in route.idempotency ? route.idempotency.off : undefined;
      expect(takesIdempotencyKey(route) || (off !== undefined && off.length > 20), route.id).toBe(true);
    }
    expect(
      writes
        .filter((route) => !takesIdempotencyKey(route))
        .map((route) => route.id)
        .sort(),
    ).toEqual(["approveChange", "rejectChange", "reviewBreakGlass"]);
    // Other methods never take one.
    for (const route of routeList.filter((route) => !writes.includes(route)))
      expect(takesIdempotencyKey(route), route.id).toBe(false);
  });

  it("every route that takes a key may use the idempotency store; one disclosing PHI can seal and replay", () => {
    for (const route of routeList.filter(takesIdempotencyKey)) {
      expect(route.permissions, route.id).toContain("idempotency:use");
      if (!route.phi?.discloses) continue;
      // Sealed under the client's key: the path's client, or the new client the answer names.
      const created = route.responses[201]?.schema as { shape?: Record<string, unknown> } | undefined;
      const sealsUnder = route.path.includes("{clientId}") || created?.shape?.clientId !== undefined;
      expect(sealsUnder, route.id).toBe(true);
      expect(route.permissions, route.id).toEqual(
        expect.arrayContaining(["keys:read", "kms:decrypt-data-key"]),
      );
      expect(route.idempotency && "replay" in route.idempotency, `${route.id}: replay audit`).toBe(true);
    }
    for (const route of routeList.filter((route) => !takesIdempotencyKey(route)))
      expect(route.permissions, route.id).not.toContain("idempotency:use");
  });

  it("a browser may send the header and read the replay marker (CORS)", () => {
    expect(CORS_ALLOWED_HEADERS).toContain(IDEMPOTENCY_KEY_HEADER);
    expect(CORS_EXPOSED_HEADERS).toContain(REPLAYED_HEADER);
  });
});

describe("the OpenAPI document", () => {
  it("documents the header, the 409 and the 422 on keyed routes only", () => {
    const document = openApiDocument(routeList);
    const create = document.paths["/clients"]?.post as {
      parameters: { name: string; in: string }[];
      responses: Record<string, { description: string }>;
    };
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ name: "Idempotency-Key", in: "header" }),
    );
    expect(create.responses[422]?.description).toContain("IDEMPOTENCY_KEY_REUSED");
    expect(create.responses[409]?.description).toContain("IDEMPOTENCY_IN_PROGRESS");
    const approve = document.paths["/changes/{changeId}/approve"]?.post as typeof create;
    expect(approve.parameters.map((parameter) => parameter.name)).not.toContain("Idempotency-Key");
    expect(approve.responses[422]).toBeUndefined();
  });
});
