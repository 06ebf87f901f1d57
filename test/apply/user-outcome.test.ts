import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../src/apply/run-apply.js';
import type { OpState } from '../../src/apply/journal.js';

const of = (...states: OpState[]) => outcomeOf('u@example.com', states.map((status) => ({ status }))).outcome;

describe("a user's outcome from their operations (the --results file, the summary)", () => {
  it('is unknown when a write was sent and the run stopped before its answer, as the run report says', () => {
    expect(of('done', 'started')).toBe('unknown');
    expect(of('started', 'pending')).toBe('unknown');
    expect(of('failed', 'started')).toBe('unknown');
    expect(of('pending', 'pending')).toBe('not-started');
    expect(of('done', 'done')).toBe('done');
    expect(of('done', 'failed')).toBe('partial');
    expect(of('failed', 'skipped')).toBe('failed');
    expect(of('skipped')).toBe('skipped');
  });
});
