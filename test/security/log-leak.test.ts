import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JANE } from "../support/fixtures";
import { testStack } from "../support/stack";

/**
 * Runs last (see test/support/sequencer.ts): after every e2e and integration request, no PHI value,
 * password, TOTP secret or token appears in any line the API logged.
 */
const stack = testStack();

function leafStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(leafStrings);
  if (value && typeof value === "object") return Object.values(value).flatMap(leafStrings);
  return [];
}

describe("logs", () => {
  it("hold no seeded PHI, secrets or tokens", () => {
    const log = readFileSync(stack.logFile, "utf8");
    expect(log).toContain("request completed");
    const forbidden = [
      ...leafStrings(JANE),
      "Orla Brightwater",
      "orla.b@patients.example",
      ...stack.users.flatMap((user) => [user.password, user.totpSecret]),
    ];
    for (const value of forbidden) {
      // A whole value, not a run of characters inside an id: a 5-digit postal code turns up inside some
      // UUID or request id of a long log by chance, which a leak it is not.
      const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const found = new RegExp(`(?<![0-9A-Za-z])${escaped}(?![0-9A-Za-z])`).exec(log);
      expect(found, `log contains a seeded value (${value.length} chars)`).toBeNull();
    }
    expect(log).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}\./);
  });
});
