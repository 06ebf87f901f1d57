import { monotonicMs } from '../monotonic-clock.js';

/** One request seen: the answer sent (null while it is being made) and when it was first seen. */
interface Entry {
  readonly key: string;
  answer: Buffer | null;
  readonly at: number;
}

/** Slots dropped from the front of the order before it is copied down (amortised O(1) a request). */
const COMPACT_AFTER = 4096;

/**
 * RFC 5080 2.2.2: a request with the same client address, port and identifier, and the same
 * content, as one seen within the last `ttlMs` is a retransmission (the caller's key says so): it gets the answer already
 * sent (or, while that is still being made, nothing more), and is never verified twice (a second
 * verification of one code would answer "replayed" to the user who typed it right).
 */
export class RetransmissionCache {
  readonly #entries = new Map<string, Entry>();
  /**
   * Every entry in the order it was begun (entries since forgotten or expired stay until they reach
   * the front), so that the oldest is found at once under a flood. Taking a Map's first key instead
   * walks past every entry deleted since the Map last rehashed: 14 µs a request at the bound of
   * 100,000, against under 1 µs (measured; docs/benchmarks.md, session 20).
   */
  #order: (Entry | undefined)[] = [];
  #head = 0;

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number = monotonicMs,
    readonly maxEntries = 100_000,
  ) {}

  /** The cached answer (null: in progress) for a retransmission, or undefined for a new request. */
  lookup(key: string): Buffer | null | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at >= this.ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.answer;
  }

  begin(key: string): void {
    // Bounded: under a flood the oldest entry goes (its retransmission would be verified again,
    // and answered as a replay), not the memory.
    if (this.#entries.size >= this.maxEntries) this.#evictOldest();
    const entry: Entry = { key, answer: null, at: this.now() };
    this.#entries.set(key, entry);
    this.#order.push(entry);
    // Slots of entries forgotten (every failed verification) or expired by lookup wait behind a kept
    // entry up to the window: without this, a flood of failures (a state outage, when VPNs retry
    // hardest) held every one of them for the whole window, not maxEntries.
    if (this.#order.length - this.#head > 2 * this.#entries.size + COMPACT_AFTER) this.#dropDeadSlots();
  }

  finish(key: string, answer: Buffer): void {
    const entry = this.#entries.get(key);
    if (entry) entry.answer = answer;
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  prune(): void {
    const now = this.now();
    for (const [key, entry] of this.#entries) if (now - entry.at >= this.ttlMs) this.#entries.delete(key);
    // The order's front: entries no longer kept (expired, forgotten, or begun again since).
    while (this.#head < this.#order.length && !this.#kept(this.#order[this.#head]!)) this.#order[this.#head++] = undefined;
    this.#compact();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Slots in the order, kept or not: at most about twice `size` (for tests). */
  get slots(): number {
    return this.#order.length - this.#head;
  }

  /** Whether the slot's entry is still the one kept under its key. */
  #kept(entry: Entry): boolean {
    return this.#entries.get(entry.key) === entry;
  }

  #evictOldest(): void {
    while (this.#head < this.#order.length) {
      const entry = this.#order[this.#head]!;
      this.#order[this.#head++] = undefined;
      if (this.#kept(entry)) {
        this.#entries.delete(entry.key);
        break;
      }
    }
    this.#compact();
  }

  #dropDeadSlots(): void {
    this.#order = this.#order.slice(this.#head).filter((e): e is Entry => e !== undefined && this.#kept(e));
    this.#head = 0;
  }

  #compact(): void {
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}
