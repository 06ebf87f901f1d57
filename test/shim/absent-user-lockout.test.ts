import { describe, expect, it } from 'vitest';
import { MemoryAbsentNames } from '../../src/shim/absent-names.js';
import { AbsentUserLockout } from '../../src/shim/absent-user-lockout.js';
import { MemoryState } from '../../src/shim/memory-state.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { Verifier } from '../../src/shim/verifier.js';
import { TestClock } from './helpers.js';

const who = { source: '198.51.100.1', authenticated: true };

describe('AbsentUserLockout', () => {
  it('keeps at most its bound of names in memory, forgetting the least recently tried; a locked name tried again stays', async () => {
    const names = new MemoryAbsentNames(undefined, 3);
    const lockout = new AbsentUserLockout(names, { ...DEFAULT_RULES, maxFails: 2 }, new TestClock(1_700_000_000_000).now);
    const tries = async (name: string, n: number) => {
      const kinds: string[] = [];
      for (let i = 0; i < n; i++) kinds.push((await lockout.attempt(name, who)).kind);
      return kinds;
    };
    expect(await tries('a', 2)).toEqual(['failed', 'failed']);
    expect(await tries('b', 1)).toEqual(['failed']);
    expect(await tries('c', 1)).toEqual(['failed']);
    // 'a', locked, is tried again after 'b' and 'c': a fourth name forgets 'b'.
    expect(await tries('a', 1)).toEqual(['locked']);
    expect(await tries('d', 1)).toEqual(['failed']);
    expect(names.size).toBe(3);
    expect(await tries('a', 1)).toEqual(['locked']);
    // 'b' starts over (two more failures before its lock-out, not one).
    expect(await tries('b', 3)).toEqual(['failed', 'failed', 'locked']);
  });
});

/** Local state whose commits are held until released, as the journal's write on its way to disk. */
class HeldCommits extends MemoryState {
  readonly waiting: (() => void)[] = [];
  protected override nextCommit(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

describe('a made-up name answered with conceal (RADIUS) waits for the state as a wrong code does', () => {
  it("is not answered before the state's next commit is durable; a locked one, as a locked user, at once", async () => {
    const state = new HeldCommits();
    const verifier = new Verifier(state, state, { ...DEFAULT_RULES, maxFails: 2 }, new TestClock(1_700_000_000_000).now);
    let answered = false;
    const first = verifier.verify('nobody@contoso.com', '000000', who, { conceal: true }).then((v) => ((answered = true), v));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    expect(state.waiting).toHaveLength(1);
    state.release();
    expect(await first).toMatchObject({ reason: 'unknown_user', failure: true });
    const second = verifier.verify('nobody@contoso.com', '000000', who, { conceal: true });
    await new Promise((r) => setImmediate(r));
    state.release();
    expect(await second).toMatchObject({ reason: 'unknown_user', failure: true });
    // Locked now: answered without a commit, as a locked-out user's refusal writes nothing.
    expect(await verifier.verify('nobody@contoso.com', '000000', who, { conceal: true })).toMatchObject({ reason: 'unknown_user', concealedLock: 'source', failure: false });
    expect(state.waiting).toHaveLength(0);
    // Without conceal (HTTP, reasons=detailed): nothing counted, nothing waited for.
    expect(await verifier.verify('other@contoso.com', '000000', who)).toMatchObject({ reason: 'unknown_user', failure: false });
    expect(state.waiting).toHaveLength(0);
  });
});
