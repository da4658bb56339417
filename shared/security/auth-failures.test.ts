import { beforeEach, describe, expect, it } from "vitest";
import { EXACT_UP_TO, MAX_IPS, resetAuthFailureTallies, tallyUnauthenticated } from "./auth-failures";

const at = (second: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, second));

describe("401 signals under a flood", () => {
  beforeEach(() => resetAuthFailureTallies());

  it("writes the first few of an IP's minute one by one, then at powers of two with the count since the last write", () => {
    const written: number[] = [];
    for (let n = 0; n < 1000; n++) {
      const { count } = tallyUnauthenticated("203.0.113.9", at(n % 60));
      if (count > 0) written.push(count);
    }
    // 1,1,1,1,1 (five), then 8 → 3, 16 → 8, 32 → 16, … 512 → 256.
    expect(written).toEqual([1, 1, 1, 1, 1, 3, 8, 16, 32, 64, 128, 256]);
    expect(written.length).toBeLessThanOrEqual(EXACT_UP_TO + Math.log2(1000));
    // What is unwritten at the minute's end is less than half of what was seen.
    const sum = written.reduce((a, b) => a + b, 0);
    expect(sum).toBe(512);
    expect(1000 - sum).toBeLessThan(1000 / 2);
  });

  it("starts again each minute, and counts every IP beyond MAX_IPS in one overflow aggregate", () => {
    expect(tallyUnauthenticated("203.0.113.9", at(0)).count).toBe(1);
    expect(tallyUnauthenticated("203.0.113.9", new Date(Date.UTC(2026, 10, 24, 12, 1, 0))).count).toBe(1);
    resetAuthFailureTallies();
    for (let n = 0; n < MAX_IPS; n++)
      expect(tallyUnauthenticated(`198.51.100.${n}`, at(1)).overflow).toBe(false);
    const writes = Array.from({ length: 5000 }, (_, n) =>
      tallyUnauthenticated(`10.0.${n >> 8}.${n & 255}`, at(2)),
    );
    expect(writes.every((write) => write.overflow)).toBe(true);
    expect(writes.filter((write) => write.count > 0).length).toBeLessThanOrEqual(
      EXACT_UP_TO + Math.log2(5000),
    );
  });
});
