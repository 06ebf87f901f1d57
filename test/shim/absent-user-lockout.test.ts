import { describe, expect, it } from 'vitest';
import { AbsentUserLockout } from '../../src/shim/absent-user-lockout.js';
import { DEFAULT_RULES } from '../../src/shim/rules.js';
import { TestClock } from './helpers.js';

describe('AbsentUserLockout', () => {
  it('keeps at most its bound of names, forgetting the least recently tried; a locked name tried again stays', () => {
    const lockout = new AbsentUserLockout({ ...DEFAULT_RULES, maxFails: 2 }, new TestClock(1_700_000_000_000).now, 3);
    const who = { source: '198.51.100.1', authenticated: true };
    const tries = (name: string, n: number) => Array.from({ length: n }, () => lockout.attempt(name, who).kind);
    expect(tries('a', 2)).toEqual(['failed', 'failed']);
    expect(tries('b', 1)).toEqual(['failed']);
    expect(tries('c', 1)).toEqual(['failed']);
    // 'a', locked, is tried again after 'b' and 'c': a fourth name forgets 'b'.
    expect(tries('a', 1)).toEqual(['locked']);
    expect(tries('d', 1)).toEqual(['failed']);
    expect(lockout.size).toBe(3);
    expect(tries('a', 1)).toEqual(['locked']);
    // 'b' starts over (two more failures before its lock-out, not one).
    expect(tries('b', 3)).toEqual(['failed', 'failed', 'locked']);
  });
});
