import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emailRefusal } from '../../src/apply/email-refusal.js';
import type { Operation } from '../../src/apply/operations.js';
import { needsNewPlan } from '../../src/apply/new-plan-needed.js';
import { refusing } from '../helpers/graph-proxies.js';
import { fakeGraph, type FakeGraph } from '../helpers/graph.js';
import { applyFile, contosoRequest, planTo, testDir } from '../helpers/migration.js';
import type { Snapshot } from '../helpers/tenant-checks.js';

const op = (kind: Operation['kind'], resource = 'emailMethods'): Operation => ({ id: `u/${resource}`, kind, userId: 'u', resource, before: null, after: { emailAddress: 'x' }, stateFingerprint: '', dependsOn: [] });
const answer = (status: number, message = 'emailAddress must be an email address.', code = 'badRequest') => ({ status, headers: {}, body: { error: { code, message } } }) as never;

describe("emailRefusal: Graph's 400 to an email method's write is final", () => {
  it("fails an email create or update at once, with Graph's words and 'plan again'", () => {
    for (const kind of ['email-create', 'email-update'] as const) {
      const why = emailRefusal(op(kind), answer(400));
      expect(why).toMatch(/^Graph refused the email method's address \(400 badRequest: emailAddress must be an email address\.\): .*no resume mends this: plan again \(correct the user's email cell in users\.csv, or plan without --include-email\)$/);
      expect(needsNewPlan(why)).toBe(true);
    }
  });

  it('leaves alone other answers (access, throttling, conflicts, outages) and other writes, phones included', () => {
    expect(emailRefusal(op('email-create'), answer(403, 'Insufficient privileges to complete the operation.', 'Authorization_RequestDenied'))).toBeUndefined();
    expect(emailRefusal(op('email-create'), answer(409, 'The user already has an email method.', 'conflict'))).toBeUndefined();
    expect(emailRefusal(op('email-create'), answer(429, 'Too many requests'))).toBeUndefined();
    expect(emailRefusal(op('email-create'), answer(503, 'Service unavailable'))).toBeUndefined();
    expect(emailRefusal(op('phone-create', 'phoneMethods/alternateMobile'), answer(400, 'alternateMobile needs a mobile phone.'))).toBeUndefined();
    expect(emailRefusal(op('phone-update', 'phoneMethods/mobile'), answer(400))).toBeUndefined();
  });
});

const ROLLOUT = 'MFA Staged Rollout';
const idOf = (g: FakeGraph, upn: string): string => (g.emu.snapshot() as Snapshot).users.find((u: Snapshot) => u.userPrincipalName === upn).id;

/** Alice's and bob's email and phone, switched to Entra MFA by the rollout group; alice's email write refused (400). */
async function applyRefused(name: string, refuse: (g: FakeGraph) => RegExp) {
  const { dir } = testDir(name);
  const source = join(dir, 'export');
  mkdirSync(source);
  writeFileSync(join(source, 'users.csv'), 'username,email,phone_country_code,phone\nalice@contoso.com,alice@contoso.com,1,4255550101\nbob@contoso.com,bob@contoso.com,1,4255550102\n');
  const g = fakeGraph();
  const file = join(dir, 'email.plan');
  await planTo(g, file, { ...contosoRequest(source, []), includeEmail: true, rolloutGroups: [ROLLOUT] });
  return applyFile(g, file, join(dir, 'state'), { graph: refusing(g, refuse(g), { refuse: true }) });
}

/**
 * A black-box test: apply met Graph's 400 to an email create (exit 3), and printed `Resume with:`,
 * though a resume sends the same address and meets the same 400.
 */
describe('apply: an email write Graph refuses (400)', () => {
  it("fails it saying to plan again; the user's switch waits; no resume is offered when nothing else is left", async () => {
    const { outcome, results } = await applyRefused('email-refused', (g) => new RegExp(`/users/${idOf(g, 'alice@contoso.com')}/authentication/emailMethods`));
    expect(outcome.state).toBe('partial');
    const alice = outcome.users.find((u) => u.upn === 'alice@contoso.com');
    // Her phone is in the tenant already: the email was her one write.
    expect(alice).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/^Graph refused the email method's address \(400 Request_BadRequest: Refused by test\): .*no resume mends this: plan again/) });
    // Her switch is skipped (never before every write of hers is done), and that is no resume's either.
    expect(alice!.skipped).toBe(1);
    expect(results.find((r) => r.user === 'bob@contoso.com')).toMatchObject({ outcome: 'done' });
    expect(outcome.resumable).toBe(false);
  });

  it('is offered to a resume all the same when another failure a resume may mend is left (a phone refused)', async () => {
    const { outcome } = await applyRefused('email-and-phone-refused', (g) => new RegExp(`/users/(${idOf(g, 'alice@contoso.com')}/authentication/emailMethods|${idOf(g, 'bob@contoso.com')}/authentication/phoneMethods)`));
    expect(outcome.users.find((u) => u.upn === 'alice@contoso.com')?.error).toMatch(/no resume mends this: plan again/);
    expect(outcome.users.find((u) => u.upn === 'bob@contoso.com')).toMatchObject({ outcome: 'partial', error: '400 Request_BadRequest: Refused by test' });
    expect(outcome.resumable).toBe(true);
  });
});
