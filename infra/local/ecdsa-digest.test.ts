import { createHash, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signDigest } from "./ecdsa-digest";

describe("ECDSA P-256 over a digest (the local KMS's MessageType DIGEST)", () => {
  it("signs what node's sha256 verification of the message accepts, and nothing else", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    for (const text of ["", "a", "a compliance report".repeat(500)]) {
      const message = Buffer.from(text);
      const signature = signDigest(createHash("sha256").update(message).digest(), privateKey);
      expect(verify("sha256", message, publicKey, signature)).toBe(true);
      expect(verify("sha256", Buffer.from(`${text}!`), publicKey, signature)).toBe(false);
    }
  });

  it("refuses anything but a 32-byte digest", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(() => signDigest(Buffer.alloc(31), privateKey)).toThrow(/32 bytes/);
  });
});
