/**
 * Plaintext data keys, held briefly so a warm read makes no KMS call. Bounded in size and age; evicted
 * keys are zeroed. Insertion order doubles as recency order (a hit is re-inserted).
 */
export class KeyCache {
  readonly #entries = new Map<string, { key: Buffer; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): Buffer | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    this.#entries.delete(id);
    if (entry.expiresAt <= this.now()) {
      entry.key.fill(0);
      return undefined;
    }
    this.#entries.set(id, entry);
    // A copy: the cached buffer is zeroed on eviction, possibly while a caller still uses it.
    return Buffer.from(entry.key);
  }

  set(id: string, key: Buffer): void {
    if (this.ttlMs === 0) return;
    this.delete(id);
    this.#entries.set(id, { key: Buffer.from(key), expiresAt: this.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(id: string): void {
    this.#entries.get(id)?.key.fill(0);
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
