import { describe, expect, it } from 'vitest';
import type { StatusResult, UserStatusRow } from '../../../src/app/status.js';
import { renderStatus } from '../../../src/cli/views/status-table.js';

const row = (user: string, over: Partial<UserStatusRow>): UserStatusRow => ({ user, user_id: `id-${user}`, migrated: true, methods: ['mobile'], methods_not_enabled: [], switched: false, switched_by: null, phone_only: false, account_enabled: true, blocked: null, ...over });

describe('status counts', () => {
  it('add up to the users in scope: a switched user who is blocked is counted with the switched, and said (a black-box test added up 39 + 0 + 3 for 40 users)', () => {
    const users = [
      row('a@contoso.com', { switched: true, switched_by: 'federation' }),
      row('b@contoso.com', { switched: true, switched_by: 'federation', migrated: false, methods: [], blocked: 'switched to Entra MFA (federation) with no cloud MFA method at all' }),
      row('c@contoso.com', {}),
      row('d@contoso.com', { migrated: false, methods: [], blocked: 'no cloud MFA method: migrate the user first' }),
    ];
    const s: StatusResult = { tenant: { id: 't', displayName: 'Contoso' }, read_at: '2026-12-06T01:50:00.000Z', read_as: 'admin@contoso.com', rollout_policy: null, rollout_unread: null, federation: [], managed_domains: [], counts: { users: 4, migrated: 2, switched: 2, ready: 1, phone_only: 0, blocked: 2 }, users };
    // When and by whom it was read head the text, for an auditor to date it by (a black-box test found neither).
    expect(renderStatus(s).split('\n')[0]).toBe('Cutover status for tenant Contoso (t), read 2026-12-06T01:50:00.000Z as admin@contoso.com: 4 user(s) in scope');
    expect(renderStatus(s).split('\n')[1]).toBe('  2 switched to Entra MFA (1 of them blocked), 1 migrated and ready to switch, 1 blocked before the switch; 0 of all with SMS/voice only (blocked at sign-in from 2027-02-01)');
  });
});
