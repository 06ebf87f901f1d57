import { describe, expect, it } from 'vitest';
import { membershipsOf } from '../../src/graph/groups-reader.js';
import { fakeGraph } from '../helpers/graph.js';

const users = Array.from({ length: 20 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, userPrincipalName: `u${i}@example.com`, displayName: `U${i}` }));
const WAVE = 'bbbbbbbb-0000-4000-8000-000000000001';
const OUTER = 'bbbbbbbb-0000-4000-8000-000000000002';
const TENANT = {
  tenant: { id: '7a1b2c3d-0000-4000-8000-0000000000ef' },
  users,
  groups: [
    { id: WAVE, displayName: 'Wave', members: users.filter((_, i) => i % 2 === 0).map((u) => u.id) },
    { id: OUTER, displayName: 'Outer', members: [WAVE, users[1]!.id] },
  ],
};

describe('membershipsOf (checkMemberGroups asked of each user)', () => {
  it('rides out 5xx answers: the action changes nothing, so it is sent again like a read, never an unknown outcome', async () => {
    const g = fakeGraph({ tenant: TENANT, faultRate: 0.4, seed: 11 });
    const out = await membershipsOf(g.client({ retry: { capMs: 5 } }), users.map((u) => u.id), [WAVE, OUTER]);
    expect(g.operations().some((o) => o.path.endsWith('/checkMemberGroups') && o.status >= 500)).toBe(true);
    users.forEach((u, i) => {
      const expected = i % 2 === 0 ? [WAVE, OUTER] : i === 1 ? [OUTER] : [];
      expect(out.get(u.id), u.userPrincipalName).toEqual(expected.sort());
    });
  });
});
