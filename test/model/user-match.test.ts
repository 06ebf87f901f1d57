import { describe, expect, it } from 'vitest';
import { decideMatch, domainFits, onPremisesName, parseNetbiosDomains, sharedMatch, type OnPremisesCandidate } from '../../src/model/user-match.js';

const user = (id: string, upn: string, sam: string | null, domain: string | null, onPremUpn: string | null = null): OnPremisesCandidate => ({
  id,
  userPrincipalName: upn,
  onPremisesSamAccountName: sam,
  onPremisesDomainName: domain,
  onPremisesUserPrincipalName: onPremUpn,
});
const none = new Map<string, string>();

describe('onPremisesName: what a username is looked up by once no tenant user has it as UPN', () => {
  it('name@suffix by the on-premises UPN; DOMAIN\\sam and a bare sam by the sAMAccountName', () => {
    expect(onPremisesName('jdoe@corp.local')).toEqual({ by: 'onPremisesUserPrincipalName', value: 'jdoe@corp.local' });
    expect(onPremisesName('CORP\\jdoe')).toEqual({ by: 'onPremisesSamAccountName', value: 'jdoe', domain: 'CORP' });
    expect(onPremisesName('jdoe')).toEqual({ by: 'onPremisesSamAccountName', value: 'jdoe' });
  });

  it('nothing for a name neither can be (never a guess at what it means)', () => {
    for (const name of ['a@b@c', '@corp.local', 'jdoe@', '\\jdoe', 'CORP\\', 'CORP\\a\\b', 'a b@c.d', 'CORP\\j*doe', 'j/doe', ' jdoe', 'CO RP\\jdoe']) expect(onPremisesName(name), name).toBeUndefined();
  });

  it('nothing for a name holding what no on-premises name holds: an invisible character, a ? an ASCII export left (black-box tests)', () => {
    for (const name of ['alice@contoso.com\u200b', 'al\u00adice@corp.local', '\ufeffjdoe@corp.local', 'CORP\\j\u200ddoe', 'CO\u2060RP\\jdoe', 'jdoe\u200c', 'm?ller@corp.local', 'CORP\\m?ller', 'm?ller', 'a\u202eb@corp.local']) {
      expect(onPremisesName(name), JSON.stringify(name)).toBeUndefined();
    }
    // Letters beyond ASCII are names.
    expect(onPremisesName('müller@corp.local')).toEqual({ by: 'onPremisesUserPrincipalName', value: 'müller@corp.local' });
    expect(onPremisesName('CORP\\müller')).toEqual({ by: 'onPremisesSamAccountName', value: 'müller', domain: 'CORP' });
  });
});

describe('decideMatch: exactly one tenant user, or no match', () => {
  const jdoe = user('1', 'jdoe@contoso.com', 'jdoe', 'corp.contoso.com', 'jdoe@corp.local');
  const jdoeEmea = user('2', 'jdoe@emea.contoso.com', 'JDOE', 'emea.contoso.com');
  const pat = user('3', 'pat@contoso.com', 'pat', 'ad.contoso.com');

  it('one user with the name: matched, with the rule of the attribute', () => {
    expect(decideMatch(onPremisesName('jdoe@CORP.local')!, [jdoe], none)).toEqual({
      outcome: 'matched',
      rule: 'USER-MATCH-ONPREM-UPN',
      by: 'onPremisesUserPrincipalName',
      value: 'jdoe@CORP.local',
      users: [{ id: '1', upn: 'jdoe@contoso.com', onPremisesDomainName: 'corp.contoso.com' }],
    });
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [jdoe, pat], none)).toMatchObject({ outcome: 'matched', rule: 'USER-MATCH-SAM', domain: 'CORP', users: [{ id: '1' }] });
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [jdoe, jdoeEmea], parseNetbiosDomains(['CORP=corp.contoso.com']))).toMatchObject({ outcome: 'matched', dns_domain: 'corp.contoso.com', users: [{ id: '1' }] });
  });

  it('DOMAIN\\sam told by the first label only is a guess: another domain with the sAMAccountName makes it ambiguous, both named', () => {
    const m = decideMatch(onPremisesName('CORP\\jdoe')!, [jdoeEmea, jdoe], none)!;
    expect(m).toMatchObject({ outcome: 'ambiguous', rule: 'USER-MATCH-AMBIGUOUS', domain: 'CORP' });
    expect(m.users.map((u) => u.id)).toEqual(['1', '2']);
    // --netbios-domain giving the other domain to its own name takes it out: the first label then holds alone.
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [jdoeEmea, jdoe], parseNetbiosDomains(['EMEA=emea.contoso.com']))).toMatchObject({ outcome: 'matched', users: [{ id: '1' }] });
  });

  it("a domain --netbios-domain gives to another name is not DOMAIN's by its first label (the real CORP is ad.contoso.com, corp.fabrikam.com is FABRIKAM's)", () => {
    const real = user('10', 'jdoe@contoso.com', 'jdoe', 'ad.contoso.com');
    const other = user('11', 'jdoe@fabrikam.com', 'jdoe', 'corp.fabrikam.com');
    // Unmapped: the first label picks fabrikam's, but ad.contoso.com may be CORP's: refused, both named.
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [real, other], none)).toMatchObject({ outcome: 'ambiguous', users: [{ id: '10' }, { id: '11' }] });
    // corp.fabrikam.com is FABRIKAM's: no domain is CORP's by its first label; never matched to fabrikam's jdoe.
    const fabrikam = parseNetbiosDomains(['FABRIKAM=corp.fabrikam.com']);
    expect(domainFits('CORP', 'corp.fabrikam.com', fabrikam)).toBe(false);
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [real, other], fabrikam)).toMatchObject({ outcome: 'domain-differs', users: [{ id: '10' }, { id: '11' }] });
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [other], fabrikam)).toMatchObject({ outcome: 'domain-differs' });
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [real, other], parseNetbiosDomains(['CORP=ad.contoso.com', 'FABRIKAM=corp.fabrikam.com']))).toMatchObject({ outcome: 'matched', users: [{ id: '10' }] });
    expect(decideMatch(onPremisesName('FABRIKAM\\jdoe')!, [real, other], fabrikam)).toMatchObject({ outcome: 'matched', users: [{ id: '11' }] });
  });

  it('two users with a bare sam: ambiguous, both named (in UPN order, whatever order Graph listed them)', () => {
    const m = decideMatch(onPremisesName('jdoe')!, [jdoeEmea, jdoe], none)!;
    expect(m).toMatchObject({ outcome: 'ambiguous', rule: 'USER-MATCH-AMBIGUOUS' });
    expect(m.users.map((u) => u.id)).toEqual(['1', '2']);
  });

  it("DOMAIN\\sam whose users are only in domains of other first labels: domain-differs; --netbios-domain's domain is used instead of the first label", () => {
    expect(decideMatch(onPremisesName('CONTOSO\\pat')!, [pat], none)).toMatchObject({ outcome: 'domain-differs', rule: 'USER-MATCH-SAM', users: [{ id: '3', onPremisesDomainName: 'ad.contoso.com' }] });
    const map = parseNetbiosDomains(['contoso=AD.contoso.com']);
    expect(decideMatch(onPremisesName('CONTOSO\\pat')!, [pat], map)).toMatchObject({ outcome: 'matched', dns_domain: 'AD.contoso.com' });
    // The map replaces the first-label rule for that name: CORP -> ad.contoso.com no longer takes corp.contoso.com.
    expect(decideMatch(onPremisesName('CORP\\jdoe')!, [jdoe], parseNetbiosDomains(['CORP=ad.contoso.com']))).toMatchObject({ outcome: 'domain-differs' });
  });

  it('candidates without the name (Graph may return more) and none at all: no match', () => {
    expect(decideMatch(onPremisesName('mary')!, [jdoe, pat], none)).toBeUndefined();
    expect(decideMatch(onPremisesName('mary@corp.local')!, [], none)).toBeUndefined();
  });

  it('a user without an on-premises domain fits no DOMAIN', () => {
    expect(domainFits('CORP', null, none)).toBe(false);
    expect(domainFits('corp', 'CORP.contoso.com', none)).toBe(true);
  });

  it('shared: refused with the other user named', () => {
    const m = decideMatch(onPremisesName('CORP\\jdoe')!, [jdoe], none)!;
    expect(sharedMatch(m, 'jdoe@contoso.com')).toMatchObject({ outcome: 'shared', rule: 'USER-MATCH-AMBIGUOUS', shared_with: 'jdoe@contoso.com', users: m.users });
  });
});

describe('parseNetbiosDomains', () => {
  it('takes NAME=dns.domain, refuses anything else and one name given two domains', () => {
    expect([...parseNetbiosDomains(['CONTOSO=ad.contoso.com', 'contoso=AD.contoso.com'])]).toEqual([['contoso', 'AD.contoso.com']]);
    for (const bad of ['CONTOSO', '=ad.contoso.com', 'CONTOSO=adcontoso', 'CON TOSO=ad.contoso.com', 'CONTOSO=ad contoso.com']) expect(() => parseNetbiosDomains([bad]), bad).toThrow(/NAME=dns\.domain/);
    expect(() => parseNetbiosDomains(['CONTOSO=ad.contoso.com', 'CONTOSO=corp.contoso.com'])).toThrow(/twice/);
    // One DNS domain, two NetBIOS names: refused (either name would match its users).
    expect(() => parseNetbiosDomains(['CORP=ad.contoso.com', 'CONTOSO=AD.contoso.com'])).toThrow(/ad\.contoso\.com two NetBIOS names, CORP and CONTOSO/i);
    // 15 characters at most, as AD has them (a black-box test's 27-character name was taken).
    expect(() => parseNetbiosDomains(['THISNAMEISTOOLONGFORNETBIOS=ad.contoso.com'])).toThrow(/is no NetBIOS domain name \(15 characters at most\)/);
    expect(parseNetbiosDomains(['FIFTEENCHARSXYZ=ad.contoso.com']).get('fifteencharsxyz')).toBe('ad.contoso.com');
  });
});
