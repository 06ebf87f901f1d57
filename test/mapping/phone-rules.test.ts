import { describe, expect, it } from 'vitest';
import { mapPhones } from '../../src/mapping/phone-rules.js';
import type { MfaMethod, MfaUser, PhoneNumber } from '../../src/model/export-data.js';

const phone = (national: string, extension?: string): PhoneNumber => ({
  countryCode: '1',
  nationalNumber: national,
  ...(extension ? { extension } : {}),
  entra: `+1 ${national}${extension ? `x${extension}` : ''}`,
});
const user = (p?: PhoneNumber, b?: PhoneNumber, defaultMethod?: MfaMethod): MfaUser => ({
  line: 2,
  username: 'u@contoso.com',
  enabled: true,
  ...(p ? { phone: p } : {}),
  ...(b ? { backupPhone: b } : {}),
  ...(defaultMethod ? { defaultMethod } : {}),
});

describe('mapPhones (the migration utility rules)', () => {
  it.each([
    // [case, primary, backup, default method, expected phones, expected finding codes]
    ['primary, no extension -> mobile', phone('4255550101'), undefined, 'phone_call', [['mobile', '+1 4255550101', 'PHONE-PRIMARY-MOBILE']], []],
    ['primary with extension -> office', phone('4255550103', '1234'), undefined, 'phone_call', [['office', '+1 4255550103x1234', 'PHONE-PRIMARY-OFFICE']], []],
    ['primary with extension, default text -> extension dropped, mobile', phone('4255550104', '77'), undefined, 'text_message', [['mobile', '+1 4255550104', 'PHONE-PRIMARY-SMS-DROP-EXT']], ['extension-dropped']],
    ['backup, no extension -> alternateMobile', phone('4255550102'), phone('2065550102'), 'text_message', [['mobile', '+1 4255550102', 'PHONE-PRIMARY-MOBILE'], ['alternateMobile', '+1 2065550102', 'PHONE-BACKUP-ALTERNATE']], []],
    ['backup with extension -> office', phone('4255550106'), phone('4255550166', '560'), 'phone_call', [['mobile', '+1 4255550106', 'PHONE-PRIMARY-MOBILE'], ['office', '+1 4255550166x560', 'PHONE-BACKUP-OFFICE']], []],
    ['both with extensions -> backup skipped', phone('4255550105', '12'), phone('4255550155', '34'), 'phone_call', [['office', '+1 4255550105x12', 'PHONE-PRIMARY-OFFICE']], ['backup-phone-skipped']],
    ['both with extensions, default text -> primary mobile, backup takes the free office phone', phone('4255550105', '12'), phone('4255550155', '34'), 'text_message', [['mobile', '+1 4255550105', 'PHONE-PRIMARY-SMS-DROP-EXT'], ['office', '+1 4255550155x34', 'PHONE-BACKUP-OFFICE']], ['extension-dropped']],
    ['backup only -> mobile (Entra needs a mobile first)', undefined, phone('4255550134'), 'phone_call', [['mobile', '+1 4255550134', 'PHONE-BACKUP-AS-MOBILE']], ['backup-phone-as-mobile']],
    ['primary with extension + backup without -> office + backup as mobile', phone('4255550103', '9'), phone('4255550134'), 'phone_call', [['mobile', '+1 4255550134', 'PHONE-BACKUP-AS-MOBILE'], ['office', '+1 4255550103x9', 'PHONE-PRIMARY-OFFICE']], ['backup-phone-as-mobile']],
    ['backup the same number as the primary -> written once', phone('4255550110'), phone('4255550110'), 'phone_call', [['mobile', '+1 4255550110', 'PHONE-PRIMARY-MOBILE']], ['backup-phone-same']],
    ['backup the number the primary is written as once its extension is dropped -> written once', phone('4255550110', '5'), phone('4255550110'), 'text_message', [['mobile', '+1 4255550110', 'PHONE-PRIMARY-SMS-DROP-EXT']], ['extension-dropped', 'backup-phone-same']],
    ['backup the same number with another extension -> both, office and mobile', phone('4255550110'), phone('4255550110', '5'), 'phone_call', [['mobile', '+1 4255550110', 'PHONE-PRIMARY-MOBILE'], ['office', '+1 4255550110x5', 'PHONE-BACKUP-OFFICE']], []],
    ['no phones', undefined, undefined, 'oath_token', [], []],
  ] as const)('%s', (_case, p, b, method, expected, codes) => {
    const r = mapPhones(user(p, b, method), undefined);
    expect(r.phones.map((x) => [x.phoneType, x.phoneNumber, x.rule])).toEqual(expected);
    expect(r.findings.map((f) => f.code)).toEqual(codes);
  });

  it('says why a backup with an extension is skipped: the primary holds the office phone', () => {
    const r = mapPhones(user(phone('4255550105', '12'), phone('4255550155', '34'), 'phone_call'), undefined);
    expect(r.findings.map((f) => f.message)).toEqual(["backup phone not migrated: it has an extension, and the primary phone, which has one too, holds Entra's one office phone"]);
  });

  it('says an extension was dropped without showing it (findings reach reports, where numbers are masked)', () => {
    const r = mapPhones(user(phone('4255550104', '4477'), undefined, 'text_message'), undefined);
    const f = r.findings.find((x) => x.code === 'extension-dropped')!;
    expect(f.message).toMatch(/extension is dropped/);
    expect(f.message).not.toContain('4477');
  });

  it('keeps a backup as alternateMobile when the tenant already has another mobile', () => {
    const r = mapPhones(user(undefined, phone('4255550134')), '+1 2065550999');
    expect(r.phones.map((x) => [x.phoneType, x.rule])).toEqual([['alternateMobile', 'PHONE-BACKUP-ALTERNATE']]);
  });

  it('keeps promoting the backup when the tenant mobile is that same number (an earlier run), so a re-plan is a no-op', () => {
    const r = mapPhones(user(undefined, phone('4255550134')), '+1 4255550134');
    expect(r.phones.map((x) => [x.phoneType, x.phoneNumber, x.rule])).toEqual([['mobile', '+1 4255550134', 'PHONE-BACKUP-AS-MOBILE']]);
  });

  it('reports invalid phones without sending them', () => {
    const u: MfaUser = { ...user(undefined, phone('2065550102')), invalidPhones: [{ field: 'phone', reason: 'not a valid number for country code +1' }] };
    const r = mapPhones(u, undefined);
    expect(r.findings).toContainEqual(expect.objectContaining({ code: 'phone-invalid', rule: 'PHONE-INVALID' }));
    expect(r.phones.map((x) => x.phoneType)).toEqual(['mobile']);
  });

  it('records where the primary and backup went', () => {
    expect(mapPhones(user(phone('4255550103', '1'), phone('2065550102')), '+1 2065550999')).toMatchObject({ primaryType: 'office', backupType: 'alternateMobile' });
  });
});
