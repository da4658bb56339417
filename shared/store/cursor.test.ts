import { describe, expect, it } from "vitest";
import * as z from "zod";
import { decodeCursor, encodeCursor } from "./cursor";

const Position = z.strictObject({ sk: z.string().regex(/^CLIENT#\w+$/) });

describe("cursors", () => {
  it("round-trip a position", () => {
    const cursor = encodeCursor({ sk: "CLIENT#abc" });
    expect(decodeCursor(Position, cursor)).toEqual({ sk: "CLIENT#abc" });
    expect(decodeCursor(Position, undefined)).toBeUndefined();
  });

  it.each([
    "%%%",
    "bm90IGpzb24",
    encodeCursor({ sk: "ORG#other" }),
    encodeCursor({ sk: "CLIENT#a", pk: "ORG#b" }),
  ])("refuse %s with INVALID_CURSOR", (cursor) => {
    expect(() => decodeCursor(Position, cursor)).toThrow(expect.objectContaining({ code: "INVALID_CURSOR" }));
  });
});
