import { describe, expect, it } from "vitest";
import { EVIDENCE_IDS, mapBounded, someIds } from "./org-data";

describe("the checks' shared loads", () => {
  it("keep at most the given number of calls in flight and answer in input order", async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, n));
      inFlight--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  });

  it("list at most as many ids as the report's schema holds, sorted", () => {
    const ids = Array.from({ length: 150 }, (_, index) => `id-${String(index).padStart(3, "0")}`).reverse();
    const listed = someIds(ids) as string[];
    expect(listed).toHaveLength(EVIDENCE_IDS);
    expect(listed[0]).toBe("id-000");
  });
});
