import { CLEARED } from './lockout.js';
import type { UserState } from './store-model.js';

/**
 * The failures and lock-out of a name the shim cannot verify (no such user, or a user without a
 * token), as the state holds them now: what absent-user-lockout.ts decides on, with the same
 * compare-and-set as a real user's state (verifier.ts StateBackend), so that the answer for a made-up
 * name costs what a real user's wrong code costs (a durable change) and reads the same.
 */
export interface AbsentView {
  state: UserState;
  /** The version read (null: the state holds no live entry for the name). */
  version: number | null;
  /** When the entry may be forgotten (ms since the epoch; null: kept until pushed out). Past it the name's state is cleared. */
  expiresAt: number | null;
  /** Read from a cache of this node's (PostgreSQL): confirm it before an answer that writes nothing. */
  cached?: boolean;
}

/** Where made-up names' failures are kept: this process's memory (the local journal) or PostgreSQL. */
export interface AbsentNameStore {
  /** `fresh`: not from a cache. */
  read(key: string, fresh: boolean): AbsentView | Promise<AbsentView>;
  /**
   * Writes the name's state only if it is still the version read (a version of null: no live entry,
   * an expired one included); resolves with the new version once the change is durable (the local
   * journal: once its next commit is on disk), or null when another change got there first.
   * `expiresAt`: when the entry may be forgotten.
   */
  write(key: string, expected: AbsentView, next: UserState, nowMs: number, expiresAt: number): Promise<number | null>;
}

/** Names remembered at most in memory, the least recently tried forgotten first: guesses at endless names cannot fill it. */
export const MAX_ABSENT_NAMES = 10_000;

/** The state a view stands for at `nowMs`: an expired entry is a name never tried. */
export function liveState(view: AbsentView, nowMs: number): UserState {
  return view.version === null || (view.expiresAt !== null && view.expiresAt <= nowMs) ? CLEARED : view.state;
}

/** A bounded map whose order is the order of use: the first key is the least recently used. */
export class RecentMap<V> {
  readonly #map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  /** Re-inserted, so that a name tried again is kept as recent. */
  set(key: string, value: V): void {
    this.#map.delete(key);
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(key, value);
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}

/**
 * Made-up names' state in this process's memory (the local journal: one node), at most `max` names.
 * A write waits for `durable()`: the state journal's next commit, so that the answer takes as long as a
 * real user's wrong code, whose failure is written there, without writing the name (journal.ts
 * JournalWriter.nextCommit). Lost at a restart.
 */
export class MemoryAbsentNames implements AbsentNameStore {
  readonly #names: RecentMap<{ state: UserState; version: number }>;

  constructor(
    private readonly durable: () => Promise<void> = () => Promise.resolve(),
    max = MAX_ABSENT_NAMES,
  ) {
    this.#names = new RecentMap(max);
  }

  read(key: string): AbsentView {
    const entry = this.#names.get(key);
    if (!entry) return { state: CLEARED, version: null, expiresAt: null };
    // Tried again (a locked name too): kept as recent, so a flood of other names does not end its lock-out sooner.
    this.#names.set(key, entry);
    return { state: entry.state, version: entry.version, expiresAt: null };
  }

  write(key: string, expected: AbsentView, next: UserState): Promise<number | null> {
    const version = this.#names.get(key)?.version ?? null;
    if (version !== expected.version) return Promise.resolve(null);
    const now = (version ?? -1) + 1;
    this.#names.set(key, { state: next, version: now });
    return this.durable().then(() => now);
  }

  get size(): number {
    return this.#names.size;
  }
}
