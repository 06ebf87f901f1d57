import { MemoryAbsentNames } from './absent-names.js';
import { CLEARED } from './lockout.js';
import type { JournalRecord } from './state-journal.js';
import type { ShimToken, ShimUser, TokenState, UserState } from './store-model.js';
import type { StateBackend, StateView, UserDirectory } from './verifier.js';

const DONE = Promise.resolve();
const FALSE = Promise.resolve(false);

/**
 * Users, tokens and their state in this process's memory, with the compare-and-set of verifier.ts
 * (one thread: the check and the set are one step). The local state (ShimDatabase) persists each
 * change to its journal through persist(); tests use it as it is.
 */
export class MemoryState implements UserDirectory, StateBackend {
  readonly users = new Map<string, ShimUser>();
  readonly tokens = new Map<string, ShimToken>();
  /** Made-up names' failures (one process): a write answered once the next commit is (nextCommit). */
  readonly absentNames = new MemoryAbsentNames(() => this.nextCommit());

  findUser(key: string): ShimUser | undefined {
    return this.users.get(key);
  }

  read(user: ShimUser): StateView {
    return {
      user: { fails: user.fails, lockedAt: user.lockedAt, sources: user.sources, version: user.version },
      tokens: user.tokens.map((t) => ({ counter: t.counter, lastStep: t.lastStep, drift: t.drift })),
    };
  }

  accept(user: ShimUser, expected: StateView['user'], token: ShimToken, next: TokenState, clearFailures: boolean): Promise<boolean> {
    if (user.version !== expected.version) return FALSE;
    const unused =
      token.type === 'hotp'
        ? next.counter !== null && (token.counter ?? 0n) < next.counter
        : next.lastStep !== null && (token.lastStep === null || token.lastStep < next.lastStep);
    if (!unused) return FALSE;
    token.counter = next.counter;
    token.lastStep = next.lastStep;
    token.drift = next.drift;
    user.version++; // as in PostgreSQL: a decision made from the state before this accept must fail its compare-and-set
    const accepted = this.persist({ token: token.serial, counter: token.counter, lastStep: token.lastStep, drift: token.drift });
    if (!clearFailures) return accepted.then(() => true);
    // Written after the token's record: a crash between the two keeps the accept and forgets nothing.
    Object.assign(user, CLEARED, { sources: {} });
    const cleared = this.persist({ user: user.key, fails: user.fails, lockedAt: user.lockedAt, sources: user.sources });
    return Promise.all([accepted, cleared]).then(() => true);
  }

  updateUser(user: ShimUser, expected: StateView['user'], next: UserState): Promise<boolean> {
    if (user.version !== expected.version) return FALSE;
    this.setUser(user, next);
    return this.persist({ user: user.key, fails: user.fails, lockedAt: user.lockedAt, sources: user.sources }).then(() => true);
  }

  protected setUser(user: ShimUser, next: UserState): void {
    user.fails = next.fails;
    user.lockedAt = next.lockedAt;
    user.sources = next.sources;
    user.version++;
  }

  /**
   * Resolves once the next commit of changes is durable, writing nothing of its own: what a change
   * made now would wait for. In memory only: at once.
   */
  protected nextCommit(): Promise<void> {
    return DONE;
  }

  /** Makes a change durable; resolves once it is. In memory only: at once. */
  protected persist(_record: JournalRecord): Promise<void> {
    return DONE;
  }
}
