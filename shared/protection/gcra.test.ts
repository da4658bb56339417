import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketState, capacityOf, costOf, decide, intervalOf, type Policy, retryAfterSeconds } from "./gcra";
import { rateLimitHeaders } from "./headers";

const policy: fc.Arbitrary<Policy> = fc.record({
  quota: fc.integer({ min: 1, max: 5000 }),
  windowSeconds: fc.integer({ min: 1, max: 3600 }),
});
/** Arrivals as gaps (µs) from the previous one, each with a cost; many land on the same instant. */
const arrivals = fc.array(
  fc.record({
    gap: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 5_000_000 }),
      fc.integer({ min: 0, max: 10 ** 9 }),
    ),
    cost: fc.integer({ min: 1, max: 30 }),
  }),
  { minLength: 1, maxLength: 300 },
);

type Admitted = { at: number; cost: number };
function run(p: Policy, sequence: { gap: number; cost: number }[], start = 1_800_000_000_000_000) {
  let tat: number | undefined;
  let now = start;
  const admitted: Admitted[] = [];
  for (const { gap, cost } of sequence) {
    now += gap;
    const decision = decide(tat, now, cost, p);
    if (decision.allowed) {
      tat = decision.tat;
      admitted.push({ at: now, cost: costOf(cost, p) });
    }
  }
  return { admitted, tat, now };
}

describe("GCRA", () => {
  it("never admits more than the quota plus what refilled, over any stretch of any arrival sequence", () => {
    fc.assert(
      fc.property(policy, arrivals, (p, sequence) => {
        const { admitted } = run(p, sequence);
        const interval = intervalOf(p);
        for (let first = 0; first < admitted.length; first++) {
          let units = 0;
          for (let last = first; last < admitted.length; last++) {
            units += (admitted[last] as Admitted).cost;
            const elapsed = (admitted[last] as Admitted).at - (admitted[first] as Admitted).at;
            // Exact in integers: units·interval ≤ capacity + elapsed.
            expect(units * interval).toBeLessThanOrEqual(capacityOf(p) + elapsed);
            expect(units).toBeLessThanOrEqual(p.quota + Math.floor(elapsed / interval));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("admits exactly the quota from a full bucket at one instant", () => {
    fc.assert(
      fc.property(policy, (p) => {
        const { admitted } = run(
          p,
          Array.from({ length: p.quota + 5 }, () => ({ gap: 0, cost: 1 })),
        );
        expect(admitted.length).toBe(p.quota);
      }),
    );
  });

  it("says when a refused request will pass: not a microsecond earlier, and then it does", () => {
    fc.assert(
      fc.property(policy, arrivals, fc.integer({ min: 1, max: 30 }), (p, sequence, cost) => {
        const { tat, now } = run(p, sequence);
        const decision = decide(tat, now, cost, p);
        if (decision.allowed) return;
        const wait = decision.retryAfterMicros;
        expect(wait).toBeGreaterThan(0);
        expect(decide(tat, now + wait - 1, cost, p).allowed).toBe(false);
        expect(decide(tat, now + wait, cost, p).allowed).toBe(true);
        // Retry-After rounds up to a whole second: retrying then always passes.
        expect(decide(tat, now + retryAfterSeconds(wait) * 1_000_000, cost, p).allowed).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("picks the form DynamoDB's conditions pick: idle once tat has passed, in use up to the bound", () => {
    const p = { quota: 100, windowSeconds: 60 };
    const now = 1_800_000_000_000_000;
    expect(decide(undefined, now, 1, p)).toEqual({ allowed: true, form: "idle", tat: now + 600_000 });
    expect(decide(now, now, 1, p)).toMatchObject({ form: "idle" });
    expect(decide(now + 1, now, 1, p)).toMatchObject({ form: "in-use", tat: now + 600_001 });
    const bound = now + capacityOf(p) - intervalOf(p);
    expect(decide(bound, now, 1, p)).toMatchObject({ allowed: true, form: "in-use" });
    expect(decide(bound + 1, now, 1, p)).toEqual({ allowed: false, retryAfterMicros: 1 });
  });

  it("charges a request costing more than the whole quota the whole quota", () => {
    const p = { quota: 5, windowSeconds: 60 };
    expect(decide(undefined, 0, 10, p)).toMatchObject({ allowed: true, tat: capacityOf(p) });
    expect(decide(capacityOf(p), 0, 10, p).allowed).toBe(false);
  });

  it("reports units left and seconds until full", () => {
    const p = { quota: 100, windowSeconds: 60 };
    const now = 1_800_000_000_000_000;
    expect(bucketState(undefined, now, p)).toEqual({ remaining: 100, resetSeconds: 0 });
    expect(bucketState(now + 600_000, now, p)).toEqual({ remaining: 99, resetSeconds: 1 });
    expect(bucketState(now + capacityOf(p), now, p)).toEqual({ remaining: 0, resetSeconds: 60 });
  });
});

describe("RateLimit header fields", () => {
  it("are Structured Field lists of quoted policy names with parameters", () => {
    expect(
      rateLimitHeaders([
        { name: "user", quota: 100, windowSeconds: 60, remaining: 42, resetSeconds: 17 },
        { name: "org", quota: 5000, windowSeconds: 60, remaining: 4890, resetSeconds: 3 },
      ]),
    ).toEqual({
      "RateLimit-Policy": '"user";q=100;w=60, "org";q=5000;w=60',
      RateLimit: '"user";r=42;t=17, "org";r=4890;t=3',
    });
  });
});
