import { describe, expect, it } from "vitest";
import { maskEmail, REDACTED, redact } from "./redact";

describe("redact", () => {
  it("drops sensitive keys whole, at any depth", () => {
    const out = redact({
      id: "c1",
      name: "Jane Roe",
      nested: { email: "j@x.example", phone: "555", count: 3 },
    });
    expect(out).toEqual({ id: "c1", name: REDACTED, nested: { email: REDACTED, phone: REDACTED, count: 3 } });
  });

  it("scrubs emails and bearer tokens from any string", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl";
    const out = redact({ detail: `user jane.roe@patients.example sent ${jwt}` }) as { detail: string };
    expect(out.detail).toBe("user j***@p***.example sent [REDACTED_TOKEN]");
  });

  it("reduces errors to name and code, dropping messages that may quote input", () => {
    const error = Object.assign(new Error("value 'Jane Roe' is invalid"), { code: "E_BAD" });
    expect(redact({ cause: error })).toEqual({ cause: { name: "Error", code: "E_BAD" } });
  });

  it("masks an email to its first letters", () => {
    expect(maskEmail("coach1@demo.example")).toBe("c***@d***.example");
  });
});
