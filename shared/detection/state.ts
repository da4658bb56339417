/**
 * Where the detectors keep what they count: sets of members under a key (added idempotently, so a
 * retried stream batch counts nothing twice) and small records (a principal's block). The live jobs keep
 * them in the security table (`dynamo-state.ts`); the benchmark in memory (`MemoryState`), behind the
 * same port, so both run the same rules.
 */
export type StateKey = { partition: string; key: string };
export type StateRecord = Record<string, string | number>;

/** The most members one set holds: past it a count stays at the cap (a finding has long been raised). */
export const SET_CAP = 2000;

export interface DetectorState {
  /** Adds members to the set (a member already there is no change) and returns the set afterwards. */
  add(at: StateKey, members: readonly string[], expiresAt: number): Promise<ReadonlySet<string>>;
  /** The set under a key (empty if none). */
  members(at: StateKey): Promise<ReadonlySet<string>>;
  /** Every set of a partition whose key lies in [from, to] (string order), with its key. */
  range(
    partition: string,
    from: string,
    to: string,
  ): Promise<{ key: string; members: ReadonlySet<string> }[]>;
  get(at: StateKey): Promise<StateRecord | undefined>;
  put(at: StateKey, record: StateRecord, expiresAt: number): Promise<void>;
}

/** The port in memory (the benchmark, unit tests). Expiry is not simulated: a run is shorter than any TTL's use. */
export class MemoryState implements DetectorState {
  readonly #sets = new Map<string, Map<string, Set<string>>>();
  readonly #records = new Map<string, StateRecord>();

  #partition(name: string) {
    let partition = this.#sets.get(name);
    if (!partition) {
      partition = new Map();
      this.#sets.set(name, partition);
    }
    return partition;
  }

  async add(at: StateKey, members: readonly string[]): Promise<ReadonlySet<string>> {
    const partition = this.#partition(at.partition);
    const set = partition.get(at.key) ?? new Set<string>();
    partition.set(at.key, set);
    for (const member of members) if (set.size < SET_CAP) set.add(member);
    return new Set(set);
  }

  async members(at: StateKey): Promise<ReadonlySet<string>> {
    return new Set(this.#sets.get(at.partition)?.get(at.key));
  }

  async range(partition: string, from: string, to: string) {
    return [...(this.#sets.get(partition) ?? new Map<string, Set<string>>())]
      .filter(([key]) => key >= from && key <= to)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, members]) => ({ key, members: new Set(members) }));
  }

  async get(at: StateKey) {
    const record = this.#records.get(`${at.partition}\n${at.key}`);
    return record && { ...record };
  }

  async put(at: StateKey, record: StateRecord) {
    this.#records.set(`${at.partition}\n${at.key}`, { ...record });
  }
}
