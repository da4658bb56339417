import { describe, expect, it } from "vitest";
import { touched } from ".";

describe("touchedBy", () => {
  it("records each admin's latest touch and keeps only the 20 most recent admins", () => {
    let record: Record<string, string> = {};
    for (let i = 0; i < 25; i++)
      record = touched(
        { touchedBy: record },
        `admin${i}`,
        `2026-11-${String(i + 1).padStart(2, "0")}T00:00:00Z`,
      );
    expect(Object.keys(record)).toHaveLength(20);
    expect(record.admin0).toBeUndefined();
    expect(record.admin24).toBe("2026-11-25T00:00:00Z");
    const again = touched({ touchedBy: record }, "admin5", "2026-12-01T00:00:00Z");
    expect(again.admin5).toBe("2026-12-01T00:00:00Z");
    expect(Object.keys(again)).toHaveLength(20);
  });
});
