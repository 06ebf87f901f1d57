import { describe, expect, it } from 'vitest';
import type { MfaUser } from '../../src/model/export-data.js';
import { policyAfter } from '../../src/model/method-policy.js';
import type { TenantUser } from '../../src/model/tenant.js';
import { mapEmail, replacedEmailFindings } from '../../src/mapping/email-rules.js';
import { mapUser } from '../../src/mapping/user-mapping.js';

const user = (email?: string): MfaUser => ({ line: 7, username: 'kim@contoso.com', enabled: true, ...(email !== undefined ? { email } : {}) });
const tenantUser: TenantUser = { id: 'u1', userPrincipalName: 'kim@contoso.com', phones: [], emails: [], authenticatorCount: 0, softwareOathCount: 0, hardwareOath: [], defaultMethod: null };

/** A black-box test: `not-an-email` was planned as the email method, silently, and Graph refused it at apply. */
describe('mapEmail (--include-email)', () => {
  it('plans an address Graph takes', () => {
    expect(mapEmail(user('kim@contoso.com'), true)).toEqual({ email: { emailAddress: 'kim@contoso.com', rule: 'EMAIL-FROM-EXPORT', because: 'MFA Server email address (--include-email)' }, findings: [] });
  });

  it('plans no address Graph refuses, and says so with EMAIL-INVALID and the line, never the cell', () => {
    for (const bad of ['not-an-email', 'kim@localhost', 'kim smith@contoso.com', 'kim@@contoso.com', '@contoso.com', 'kim@contoso.']) {
      const m = mapEmail(user(bad), true);
      expect(m.email, bad).toBeUndefined();
      expect(m.findings, bad).toEqual([
        {
          severity: 'warning',
          code: 'email-invalid',
          user: 'kim@contoso.com',
          rule: 'EMAIL-INVALID',
          message: expect.stringMatching(/^email not migrated: the email cell \(users\.csv, line 7\) is not an email address .*correct the cell and plan again$/),
        },
      ]);
      expect(m.findings[0]!.message).not.toContain(bad);
    }
  });

  it('says nothing without --include-email, or without an email cell', () => {
    expect(mapEmail(user('not-an-email'), false)).toEqual({ findings: [] });
    expect(mapEmail(user(), true)).toEqual({ findings: [] });
  });

  it("is the user's mapping: no email change, the finding among the user's", () => {
    const m = mapUser({
      user: user('not-an-email'),
      seeds: [],
      devices: [],
      tenantUser,
      inventory: new Map(),
      policy: { after: policyAfter({}, []), enabledForAnyone: new Set(['sms', 'voiceMobile']) },
      options: { includeEmail: true, defaultMethod: 'if-unset', prune: false },
    });
    expect(m.email).toBeUndefined();
    expect(m.findings.filter((f) => f.code === 'email-invalid').map((f) => f.rule)).toEqual(['EMAIL-INVALID']);
  });
});

/** A black-box test: a tenant address MFA Server's replaced was planned with no finding, where a replaced phone has one. */
describe('replacedEmailFindings', () => {
  const desired = { emailAddress: 'work@contoso.com', rule: 'EMAIL-FROM-EXPORT' as const, because: 'MFA Server email address (--include-email)' };
  it("warns of another address the tenant's email method holds, never of the same one (case aside) or none", () => {
    expect(replacedEmailFindings('kim@contoso.com', desired, [{ id: 'e', emailAddress: 'personal@example.org' }])).toEqual([
      { severity: 'warning', code: 'email-replaced', user: 'kim@contoso.com', rule: 'EMAIL-REPLACE', message: "the tenant's email method is replaced by MFA Server's, another address (the change's before and after); rollback restores the tenant's" },
    ]);
    expect(replacedEmailFindings('kim@contoso.com', desired, [{ id: 'e', emailAddress: 'WORK@contoso.com' }])).toEqual([]);
    expect(replacedEmailFindings('kim@contoso.com', desired, [])).toEqual([]);
    expect(replacedEmailFindings('kim@contoso.com', undefined, [{ id: 'e', emailAddress: 'personal@example.org' }])).toEqual([]);
  });
});
