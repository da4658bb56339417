import { describe, expect, it } from "vitest";
import { main } from "../../infra/smoke/cli";
import type { SmokeRequest, SmokeResponse } from "../../infra/smoke/http";
import { SMOKE_STEPS, type SmokeTarget } from "../../infra/smoke/steps";
import { testStack } from "../support/stack";

/**
 * `npm run smoke -- --stage local` against the test run's stack, so the post-deploy smoke test cannot rot;
 * then the same command with one answer broken on purpose (the checks stay the real ones), which must fail
 * naming that step.
 */
const stack = testStack();
const smokeUsers = stack.users.filter((user) => user.orgId === "smoke");

async function smoke(wrap?: (target: SmokeTarget) => SmokeTarget) {
  const lines: string[] = [];
  const code = await main(["--stage", "local", "--dir", stack.dir], (line) => lines.push(line), wrap);
  return { code, lines };
}

/** A target whose answers to matching requests are changed by `change`. */
const tampered =
  (matches: (req: SmokeRequest) => boolean, change: (res: SmokeResponse) => SmokeResponse) =>
  (target: SmokeTarget): SmokeTarget => ({
    ...target,
    send: async (req) => {
      const res = await target.send(req);
      return matches(req) ? change(res) : res;
    },
  });

const withoutHeader = (name: string) => (res: SmokeResponse) => {
  const { [name]: _dropped, ...headers } = res.headers;
  return { ...res, headers };
};

describe("npm run smoke -- --stage local", () => {
  it("passes every step inside the smoke org, printing each, and never prints a secret or token", async () => {
    expect(smokeUsers.map((user) => user.role).sort()).toEqual(["admin", "coach"]);
    const { code, lines } = await smoke();
    expect(code, lines.join("\n")).toBe(0);
    for (const step of SMOKE_STEPS) expect(lines).toContain(`  ok    ${step.name}`);
    expect(lines.at(-1)).toBe("smoke test of the local stack passed");
    const output = lines.join("\n");
    for (const user of smokeUsers) {
      expect(output).not.toContain(user.password);
      expect(output).not.toContain(user.totpSecret);
    }
    expect(output).not.toMatch(/eyJ[\w-]+\./); // no JWT
  }, 120_000);

  it("fails naming the step when a preflight lacks a security header", async () => {
    const { code, lines } = await smoke(
      tampered((req) => req.method === "OPTIONS", withoutHeader("x-frame-options")),
    );
    expect(code).toBe(1);
    expect(lines).toContain(
      "  FAIL  CORS preflight from an allowed origin: the 204 answer has no X-Frame-Options header",
    );
    expect(lines.at(-1)).toBe('smoke test failed at step "CORS preflight from an allowed origin"');
  });

  it("fails naming the step when an error answer carries a wrong security header value", async () => {
    const { code, lines } = await smoke(
      tampered(
        (req) => req.method === "GET" && req.path === "/clients" && !req.token,
        (res) => ({ ...res, headers: { ...res.headers, "strict-transport-security": "max-age=60" } }),
      ),
    );
    expect(code).toBe(1);
    expect(lines.at(-1)).toBe('smoke test failed at step "an unauthenticated request is refused"');
  });

  it("fails naming the step when the API answers with another status", async () => {
    // The smoke admin signs in as the smoke coach: the real API refuses the verification with a 403.
    const { code, lines } = await smoke((target) => ({
      ...target,
      signIn: (role) => target.signIn(role === "admin" ? "coach" : role),
    }));
    expect(code).toBe(1);
    expect(lines).toContain("  FAIL  start the audit verification: expected status 202, got 403 (FORBIDDEN)");
    expect(lines.at(-1)).toBe('smoke test failed at step "start the audit verification"');
  }, 120_000);

  it("fails naming the first step when there is nothing to test, and refuses a missing --stage", async () => {
    const lines: string[] = [];
    expect(
      await main(["--stage", "local", "--dir", `${stack.dir}/nowhere`], (line) => lines.push(line)),
    ).toBe(1);
    expect(lines.at(-1)).toBe(`smoke test failed at step "find the stage's endpoints and smoke users"`);
    expect(await main([], () => {})).toBe(2);
  });
});
