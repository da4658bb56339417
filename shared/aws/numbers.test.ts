import { describe, expect, it } from "vitest";
import { readNumber } from "./numbers";

describe("reading DynamoDB numbers", () => {
  it("reads what the SDK reads by default: numbers, and BigInts for integers beyond 2^53", () => {
    expect(readNumber("42")).toBe(42);
    expect(readNumber("-1.5")).toBe(-1.5);
    expect(readNumber("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
    expect(readNumber("9007199254740993")).toBe(9007199254740993n);
    expect(readNumber("-99999999999999999999")).toBe(-99999999999999999999n);
  });

  it("reads a number neither holds exactly as the nearest number instead of failing (the SDK's default throws)", () => {
    expect(readNumber("12345678901234567890.5")).toBe(Number("12345678901234567890.5"));
    expect(readNumber("1e30")).toBe(1e30);
    expect(readNumber("-1E+38")).toBe(-1e38);
  });
});
