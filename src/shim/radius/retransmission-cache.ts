/**
 * RFC 5080 2.2.2: a request with the same client address, port and identifier, and the same
 * content, as one seen within the last `ttlMs` is a retransmission (the caller's key says so): it gets the answer already
 * sent (or, while that is still being made, nothing more), and is never verified twice (a second
 * verification of one code would answer "replayed" to the user who typed it right).
 */
export class RetransmissionCache {
  /** key -> the answer sent (null while it is being made) and when the request was first seen. */
  readonly #entries = new Map<string, { answer: Buffer | null; at: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
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
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { answer: null, at: this.now() });
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
  }

  get size(): number {
    return this.#entries.size;
  }
}
