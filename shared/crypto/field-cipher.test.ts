import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DecryptionError } from "./errors";
import { openField, sealField } from "./field-cipher";

const key = randomBytes(32);
const binding = { orgId: "org", clientId: "c1", recordId: "client#c1", field: "name", version: 1 };

describe("field cipher", () => {
  it("round-trips JSON values and never repeats a ciphertext", () => {
    const value = { line1: "1 Main St", city: "Town" };
    const a = sealField(key, value, binding);
    const b = sealField(key, value, binding);
    expect(a).not.toBe(b);
    expect(openField(key, a, binding)).toEqual(value);
  });

  it.each([
    ["org", { ...binding, orgId: "other" }],
    ["client", { ...binding, clientId: "c2" }],
    ["record", { ...binding, recordId: "note#1" }],
    ["field", { ...binding, field: "email" }],
    ["version", { ...binding, version: 2 }],
  ])("refuses a ciphertext moved to another %s", (_what, moved) => {
    const sealed = sealField(key, "Jane", binding);
    expect(() => openField(key, sealed, moved)).toThrow(DecryptionError);
  });

  it("refuses a wrong key, a flipped bit and garbage", () => {
    const sealed = sealField(key, "Jane", binding);
    expect(() => openField(randomBytes(32), sealed, binding)).toThrow(DecryptionError);
    const bytes = Buffer.from(sealed.slice(3), "base64url");
    bytes[14] = (bytes[14] ?? 0) ^ 1;
    expect(() => openField(key, `v1.${bytes.toString("base64url")}`, binding)).toThrow(DecryptionError);
    expect(() => openField(key, "v2.abc", binding)).toThrow(DecryptionError);
    expect(() => openField(key, "v1.", binding)).toThrow(DecryptionError);
  });
});
