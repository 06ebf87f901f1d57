import { describe, expect, it } from 'vitest';
import { selectUsers } from '../../src/apply/run-apply.js';
import type { SavedPlan } from '../../src/plan/plan-file.js';

/** A saved plan's users as selectUsers reads them: the name and the changes left. */
const planOf = (users: [upn: string, pending: number][]) => ({ users: users.map(([upn, pending]) => ({ upn, pending })) }) as unknown as SavedPlan;

describe('selectUsers', () => {
  it('--users names a plan user whichever Unicode form either writes (a plan made before names were read composed may hold one decomposed)', () => {
    const plan = planOf([
      ['mu\u0308ller@contoso.com', 2],
      ['j\u00f6rg@contoso.com', 1],
      ['alice@contoso.com', 1],
      ['bob@contoso.com', 0],
    ]);
    expect(selectUsers(plan, { users: ['M\u00fcller@contoso.com', 'jo\u0308rg@CONTOSO.com', 'bob@contoso.com'] })).toEqual([0, 1]);
    expect(selectUsers(plan, {})).toEqual([0, 1, 2]);
  });
});
