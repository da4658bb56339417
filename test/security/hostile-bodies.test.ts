import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { routeList } from "../../functions/routes";
import { readOrgChains } from "../../shared/audit";
import { testStack } from "../support/stack";

/**
 * Hostile bodies on every manifest route that takes one: each is refused with a 4xx and a stable
 * code, nothing is written (every write appends to the org's audit chains, so their total length is
 * the witness), and the submitted value never comes back.
 */
const stack = testStack();
const { api } = stack;
const SECRET = "Zebulon Quagmire 555-867-5309";

let ids: Record<string, string>;
let tokens: Record<string, string>;

beforeAll(async () => {
  const coach = await stack.token("coach1@demo.example");
  const admin = await stack.token("admin@demo.example");
  const lead = await stack.token("lead@demo.example");
  const compliance = await stack.token("compliance@demo.example");
  tokens = { coach, admin, lead, compliance };
  const { clientId, sessionId, noteId } = await stack.clientWithRecords(coach, "Hostile Fixture", [
    "coaching",
    "ai_processing",
  ]);
  const userId = stack.users.find((u) => u.email === "coach2@demo.example")?.userId as string;
  // The body is refused before the grant is looked up: any grant id does.
  ids = { clientId, sessionId, noteId, userId, coachId: userId, purpose: "research", grantId: randomUUID() };
});

const auditLength = async () => (await readOrgChains("demo")).reduce((n, chain) => n + chain.length, 0);
const fill = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] as string);
const callerFor = (roles: readonly string[]) =>
  roles.includes("coach")
    ? "coach"
    : roles.includes("admin")
      ? "admin"
      : roles.includes("compliance_officer")
        ? "compliance"
        : "lead";

const HOSTILE: [string, { rawBody: string }, string][] = [
  ["an unknown field", { rawBody: JSON.stringify({ ssn: SECRET }) }, "VALIDATION_FAILED"],
  ["an array instead of an object", { rawBody: JSON.stringify([SECRET]) }, "VALIDATION_FAILED"],
  ["malformed JSON", { rawBody: `{"text": "${SECRET}` }, "MALFORMED_JSON"],
  ["a __proto__ key", { rawBody: `{"__proto__": {"isAdmin": true}, "x": "${SECRET}"}` }, "VALIDATION_FAILED"],
  ["a string where an object belongs", { rawBody: JSON.stringify(SECRET) }, "VALIDATION_FAILED"],
];

describe("hostile bodies on every route that takes one", () => {
  for (const route of routeList.filter((r) => r.request?.body)) {
    it.each(HOSTILE)(
      `${route.method} ${route.path}: %s → 4xx, nothing stored, nothing echoed`,
      async (_what, options, code) => {
        const before = await auditLength();
        const res = await api(route.method, fill(route.path), {
          token: tokens[callerFor(route.roles)],
          ...options,
          headers: { "content-type": "application/json" },
        });
        expect(res.status).toBe(400);
        expect(res.json.error.code).toBe(code);
        expect(res.text).not.toContain("Zebulon");
        expect(res.text).not.toContain("867-5309");
        expect(await auditLength()).toBe(before);
      },
    );
  }
});
