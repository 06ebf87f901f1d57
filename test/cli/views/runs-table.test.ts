import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../src/apply/journal.js';
import { renderRunsTable } from '../../../src/cli/views/runs-table.js';

const run = (over: Partial<RunSummary>): RunSummary => ({
  id: '20261205T060000Z-0a1b2c3d',
  kind: 'apply',
  state: 'interrupted',
  started: '2026-12-05T06:00:00.000Z',
  finished: null,
  counts: { pending: 10, started: 3, done: 80, failed: 1, skipped: 2 },
  tenant: { id: 't-1', displayName: 'Contoso' },
  graph: 'https://graph.microsoft.com',
  rollback_of: null,
  rolled_back_by: [],
  ...over,
});

describe('runs table', () => {
  it('counts operations sent with no answer journaled as pending, and says how many they are', () => {
    const text = renderRunsTable([{ stateDir: '/s', runs: [run({})] }]);
    expect(text).toMatch(/80\/1\/2\/13\s+3 of the pending sent, outcome unknown/);
  });

  it('says nothing of them when there are none, and keeps the links and problems', () => {
    const text = renderRunsTable([{ stateDir: '/s', runs: [run({ counts: { pending: 0, started: 0, done: 80, failed: 0, skipped: 0 }, rolled_back_by: ['r2'], problem: 'edited journal: line 3' })] }]);
    expect(text).not.toMatch(/outcome unknown/);
    expect(text).toMatch(/rolled back by r2 \(not listed\); edited journal: line 3/);
  });

  it('names a rollback that has not completed with its state (a new admin read "rolled back by" of one interrupted)', () => {
    const rollback = (id: string, state: RunSummary['state'], started: string) => run({ id, kind: 'rollback', state, started, rollback_of: 'a1' });
    const text = renderRunsTable([
      { stateDir: '/s', runs: [rollback('r2', 'interrupted', '2026-12-05T07:00:00.000Z'), run({ id: 'a1', state: 'completed', rolled_back_by: ['r2'] })] },
      { stateDir: '/t', runs: [rollback('r3', 'completed', '2026-12-05T07:00:00.000Z'), run({ id: 'a1', state: 'completed', rolled_back_by: ['r3'] })] },
    ]);
    expect(text).toMatch(/rolled back by r2 \(interrupted\)/);
    expect(text).toMatch(/rolled back by r3(?! \()/);
  });
});
