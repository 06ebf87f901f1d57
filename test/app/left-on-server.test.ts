import { describe, expect, it } from 'vitest';
import { movedByFederation, movedOfRows } from '../../src/app/left-on-server.js';
import { LEFT_ON_SERVER, movedByFederationNote, resultRows } from '../../src/app/results.js';
import type { UserEntry } from '../../src/plan/plan-file.js';

const entry = (upn: string, over: Partial<UserEntry> = {}): UserEntry => ({ upn, userId: `id-${upn}`, status: 'unchanged', pending: 0, offset: 0, length: 0, line: 0, ...over });

describe('the not-switched users a run\'s federation moved to Entra MFA', () => {
  // judy's username is her on-premises name: the federation counts her by her tenant UPN's domain.
  const roster = [entry('CONTOSO\\judy', { tenantUpn: 'judy@Contoso.com' }), entry('zoe@fabrikam.com'), entry('alice@contoso.com')];
  const notSwitched = new Set(['contoso\\judy', 'zoe@fabrikam.com']);

  it('are those of a domain whose federation the run set, by their tenant UPN; the others are left on MFA Server', () => {
    const moved = movedByFederation(roster, notSwitched, ['contoso.com'], []);
    expect([...moved]).toEqual([['contoso\\judy', 'contoso.com']]);
    expect(movedByFederation(roster, notSwitched, [], [])).toEqual(new Map());
    const rows = resultRows(roster, () => true, [], { leftOnServer: new Set(['zoe@fabrikam.com']), movedByFederation: moved });
    expect(rows.map((r) => [r.user, r.first_error])).toEqual([
      ['CONTOSO\\judy', movedByFederationNote('contoso.com')],
      ['zoe@fabrikam.com', LEFT_ON_SERVER],
      ['alice@contoso.com', ''],
    ]);
    expect(movedOfRows(rows, moved, ['contoso.com', 'fabrikam.com'])).toEqual([{ domain: 'contoso.com', users: ['CONTOSO\\judy'] }]);
  });

  it("counts a non-root subdomain's user under the root whose federation moved them (a black-box test: erin@eu.contoso.com was said left on MFA Server)", () => {
    const users = [entry('erin@eu.contoso.com'), entry('ann@apac.contoso.com'), entry('x@x.eu.contoso.com')];
    const left = new Set(['erin@eu.contoso.com', 'ann@apac.contoso.com', 'x@x.eu.contoso.com']);
    const seen = [{ id: 'contoso.com', subdomains: ['eu.contoso.com', 'x.eu.contoso.com'] }, { id: 'apac.contoso.com' }];
    expect([...movedByFederation(users, left, ['contoso.com'], seen)]).toEqual([
      ['erin@eu.contoso.com', 'contoso.com'],
      ['x@x.eu.contoso.com', 'contoso.com'],
    ]);
    // A promoted subdomain is a domain of its own: the root's federation does not move its users.
    expect([...movedByFederation(users, left, ['apac.contoso.com'], seen)]).toEqual([['ann@apac.contoso.com', 'apac.contoso.com']]);
  });

  it('a row of its own error keeps it; a user not selected is said moved all the same (the federation moved them)', () => {
    const moved = new Map([['contoso\\judy', 'contoso.com']]);
    const rows = resultRows([entry('CONTOSO\\judy', { tenantUpn: 'judy@contoso.com', status: 'changes', pending: 1 })], () => true, [], { movedByFederation: moved });
    expect(rows.map((r) => [r.outcome, r.first_error])).toEqual([['not-selected', movedByFederationNote('contoso.com')]]);
    const failed = resultRows([entry('CONTOSO\\judy')], () => true, [{ upn: 'CONTOSO\\judy', outcome: 'failed', done: 0, failed: 1, skipped: 0, operations: 1, error: 'Graph said no' }], { movedByFederation: moved });
    expect(failed.map((r) => r.first_error)).toEqual(['Graph said no']);
  });
});
