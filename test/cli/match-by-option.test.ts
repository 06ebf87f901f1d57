import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/run-main.js';
import { CONTOSO } from '../helpers/migration.js';

describe('plan --match-by and --netbios-domain', () => {
  it('--help explains both, with an example', async () => {
    const help = (await runMain(['plan', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--match-by <list>');
    expect(help).toContain('upn,on-premises (the default) also looks a username no user has as UPN up by the synced onPremisesUserPrincipalName (name@suffix) or onPremisesSamAccountName (DOMAIN\\sam, sam), matching only when exactly one user fits');
    expect(help).toContain('--netbios-domain <NAME=dns.domain>');
    expect(help).toContain('mfa-migrate plan --source ./export --netbios-domain CORP=ad.contoso.com --out wave1.plan');
    expect(help).toContain('mfa-migrate plan --source ./export --match-by upn');
    expect((await runMain(['status', '--help'])).stdout).toContain('--match-by <list>');
  });

  it('refuses a value that leaves out the UPN, an unknown one, and --netbios-domain without on-premises matching, before reading anything', async () => {
    for (const [args, message] of [
      [['--match-by', 'on-premises'], '--match-by "on-premises": give upn, or upn,on-premises'],
      [['--match-by', 'upn,sid'], '--match-by "upn,sid": give upn, or upn,on-premises'],
      [['--match-by', 'upn', '--netbios-domain', 'CORP=ad.contoso.com'], '--netbios-domain goes with --match-by upn,on-premises'],
      [['--netbios-domain', 'CORP'], '--netbios-domain "CORP": give NAME=dns.domain'],
    ] as const) {
      const r = await runMain(['plan', '--source', CONTOSO, '--graph-url', 'http://127.0.0.1:9', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(message);
    }
  });
});
