import { describe, expect, it } from "vitest";
import { KeyCache } from "./key-cache";

describe("KeyCache", () => {
  it("expires keys after the TTL", () => {
    let now = 0;
    const cache = new KeyCache(1000, 10, () => now);
    cache.set("a", Buffer.alloc(32, 1));
    now = 999;
    expect(cache.get("a")).toEqual(Buffer.alloc(32, 1));
    now = 2000;
    expect(cache.get("a")).toBeUndefined();
  });

  it("evicts the least recently used key beyond its size and zeroes it", () => {
    const cache = new KeyCache(60_000, 2);
    const first = Buffer.alloc(32, 7);
    cache.set("a", first);
    cache.set("b", Buffer.alloc(32, 8));
    cache.get("a");
    cache.set("c", Buffer.alloc(32, 9));
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toEqual(Buffer.alloc(32, 7));
    expect(cache.size).toBe(2);
  });

  it("hands out copies, so eviction cannot zero a key in use", () => {
    const cache = new KeyCache(60_000, 1);
    cache.set("a", Buffer.alloc(32, 5));
    const inUse = cache.get("a") as Buffer;
    cache.set("b", Buffer.alloc(32, 6));
    expect(inUse).toEqual(Buffer.alloc(32, 5));
  });

  it("caches nothing with a TTL of zero", () => {
    const cache = new KeyCache(0, 10);
    cache.set("a", Buffer.alloc(32));
    expect(cache.get("a")).toBeUndefined();
  });
});
