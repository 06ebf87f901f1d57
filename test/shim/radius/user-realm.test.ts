import { describe, expect, it } from 'vitest';
import { parseClients } from '../../../src/shim/radius/clients-file.js';
import { normaliseUserName, realmCheck, type RealmRules } from '../../../src/shim/radius/user-realm.js';
import { userKey } from '../../../src/shim/store-model.js';

const S = '0123456789abcdef0123';
/** The rules of one clients file line's options. */
const rulesOf = (options: string): RealmRules | undefined => parseClients(`10.0.0.1 ${S} vpn ${options}\n`, 'c')[0]!.realm;

describe('RADIUS user names: strip-realm= and default-domain= (per client)', () => {
  const contoso = rulesOf('strip-realm=CONTOSO,contoso.com default-domain=contoso.com')!;

  it('looks up what a VPN user types as the store has it: grace, CONTOSO\\grace, grace@CONTOSO, grace@contoso.com all grace@contoso.com', () => {
    expect(contoso).toEqual({ strip: ['contoso', 'contoso.com'], defaultDomain: 'contoso.com' });
    for (const sent of ['grace', 'CONTOSO\\grace', 'contoso\\grace', 'grace@CONTOSO', 'grace@contoso.com', 'grace@Contoso.COM', ' grace\t']) {
      expect(userKey(normaliseUserName(sent, contoso)), sent).toBe('grace@contoso.com');
    }
  });

  it('never gives one domain\'s user another\'s: realms not listed, and names with two separators, are looked up as sent', () => {
    for (const sent of ['grace@fabrikam.com', 'FABRIKAM\\grace', 'grace@fabrikam', 'CONTOSO\\grace@fabrikam.com', 'grace@fabrikam.com@contoso.com', 'CONTOSO\\FABRIKAM\\grace', 'a\\b@c']) {
      expect(normaliseUserName(sent, contoso), sent).toBe(sent);
    }
    // Nothing left once the realm is removed, or what is left is not a bare name: as sent.
    for (const sent of ['CONTOSO\\', '@contoso', 'CONTOSO\\gr ace', 'CONTOSO\\gr\u212Ace']) expect(normaliseUserName(sent, contoso), sent).toBe(sent);
    // A bare name that is no ASCII name gets no domain (the store holds ASCII names only).
    expect(normaliseUserName('gr\u212Ace', contoso)).toBe('gr\u212Ace');
    // Realms compare A-Z folded only: the Kelvin sign is no K.
    expect(normaliseUserName('grace@\u212Aontoso', rulesOf('strip-realm=KONTOSO')!)).toBe('grace@\u212Aontoso');
  });

  it('strip-realm alone leaves bare names (a store of sAMAccountNames); default-domain alone only completes bare ones', () => {
    const strip = rulesOf('strip-realm=CORP')!;
    expect(['CORP\\mary', 'mary@corp', 'mary', 'mary@contoso.com', 'OTHER\\mary'].map((n) => normaliseUserName(n, strip))).toEqual(['mary', 'mary', 'mary', 'mary@contoso.com', 'OTHER\\mary']);
    const domain = rulesOf('default-domain=Contoso.com')!;
    expect(['grace', 'CONTOSO\\grace', 'grace@CONTOSO', 'CORP\\jdoe'].map((n) => normaliseUserName(n, domain))).toEqual(['grace@contoso.com', 'CONTOSO\\grace', 'grace@CONTOSO', 'CORP\\jdoe']);
    // Without options the name is looked up as sent (no realm at all on the client).
    expect(rulesOf('rate-limit=5')).toBeUndefined();
  });

  it('gives the same name when applied again (so a user is reachable through a client exactly when its rules leave the name as it is)', () => {
    for (const rules of [contoso, rulesOf('strip-realm=CORP')!, rulesOf('default-domain=contoso.com')!, rulesOf('strip-realm=contoso.com')!]) {
      for (const sent of ['grace', 'CONTOSO\\grace', 'grace@contoso', 'grace@contoso.com', 'CORP\\jdoe', 'mary@corp', 'x@fabrikam.com', 'a\\b@c']) {
        const once = normaliseUserName(sent, rules);
        expect(normaliseUserName(once, rules), `${sent} ${JSON.stringify(rules)}`).toBe(once);
      }
    }
  });

  it('refuses options that would fold two domains into one, or give a DNS domain\'s users another\'s; refuses malformed values and repeats, naming line and field', () => {
    const refused = (options: string) => () => parseClients(`# c\n10.0.0.1 ${S} vpn ${options}\n`, 'c');
    expect(refused('strip-realm=contoso.com,fabrikam.com')).toThrow("c: line 2: strip-realm names 2 DNS domains: it takes one domain's names (its NetBIOS name, its DNS name), since two domains' users of one name would become one user");
    expect(refused('strip-realm=CONTOSO,FABRIKAM')).toThrow('c: line 2: strip-realm names 2 NetBIOS domains');
    // The example of the brief: grace@fabrikam.com stripped to grace, then given contoso.com.
    expect(refused('strip-realm=fabrikam.com default-domain=contoso.com')).toThrow(
      "c: line 2: strip-realm names the DNS domain fabrikam.com, and default-domain is contoso.com: fabrikam.com's users would be looked up as contoso.com's (user@fabrikam.com as user@contoso.com); name only default-domain's domain",
    );
    expect(refused('default-domain=contoso.com strip-realm=FABRIKAM.com')).toThrow('strip-realm names the DNS domain fabrikam.com');
    expect(refused('strip-realm=CONTOSO strip-realm=contoso.com')).toThrow('c: line 2: strip-realm is given twice (list the realms in one, separated by commas)');
    expect(refused('default-domain=contoso.com default-domain=contoso.com')).toThrow('c: line 2: default-domain is given twice');
    expect(refused('strip-realm=CONTOSO,contoso')).toThrow('c: line 2: field 4: strip-realm names a realm twice');
    for (const bad of ['strip-realm=', 'strip-realm=CONTOSO,', 'strip-realm=*', 'strip-realm=CONTOSO\\', 'strip-realm=@contoso.com', 'strip-realm=contoso..com']) {
      expect(refused(bad), bad).toThrow(/^c: line 2: field 4: strip-realm takes realms separated by commas/);
    }
    expect(refused('default-domain=@contoso.com')).toThrow('c: line 2: field 4: default-domain takes a DNS domain, the UPN suffix bare names are given (without the @)');
    expect(refused('default-domain=CONTOSO')).toThrow('default-domain takes a DNS domain, the UPN suffix bare names are given (a UPN suffix such as contoso.com: a NetBIOS domain such as CONTOSO is for strip-realm)');
    expect(refused('default-domain=')).toThrow('field 4: default-domain takes a DNS domain');
    // Listed among the options in the message for an unknown one.
    expect(refused('realm=CONTOSO')).toThrow(/field 4 is not an option \(.*strip-realm=REALM\[,REALM\.\.\.\], default-domain=DOMAIN\)/);
    // With other options, in any order, and without a NAME.
    expect(parseClients(`10.0.0.1 ${S} default-domain=contoso.com rate-limit=5 strip-realm=contoso.com\n`, 'c')[0]).toMatchObject({ name: '10.0.0.1', rateLimit: 5, realm: { strip: ['contoso.com'], defaultDomain: 'contoso.com' } });
  });

  it('checks each client against the store: refuses one whose rules give a user\'s own name to another user, warns of users it can never reach', () => {
    const clients = parseClients(`10.0.0.1 ${S} vpn-1 strip-realm=CONTOSO,contoso.com default-domain=contoso.com\n10.0.0.2 ${S} vpn-2\n`, 'c');
    const users = (...names: string[]) => names.map((username) => ({ username, key: userKey(username) }));
    expect(realmCheck(clients, users('grace@contoso.com', 'ivan@contoso.com', 'ann@fabrikam.com'))).toEqual([]);
    // A bare grace and grace@contoso.com: through vpn-1 the bare grace's codes would be checked against the other's tokens.
    expect(() => realmCheck(clients, users('grace@contoso.com', 'Grace'))).toThrow(
      "RADIUS client vpn-1 (clients file line 1): with strip-realm=contoso,contoso.com default-domain=contoso.com, the name Grace, a user of the store, is looked up as grace@contoso.com, another user of the store (Grace's codes would be checked against grace@contoso.com's tokens); remove the option from the client, or one of the two users from the store",
    );
    expect(() => realmCheck(clients, users('CONTOSO\\jdoe', 'jdoe@contoso.com'))).toThrow('the name CONTOSO\\jdoe, a user of the store, is looked up as jdoe@contoso.com');
    // Names of the store the rules change into no user's: those users cannot sign in through vpn-1 (first five, and the count).
    const warned = realmCheck(clients, users('grace@contoso.com', 'mary', 'CONTOSO\\a', 'b', 'c', 'd', 'e'));
    expect(warned).toEqual([
      'warning: RADIUS client vpn-1 (clients file line 1): 6 user(s) of the store cannot sign in through it: with strip-realm=contoso,contoso.com default-domain=contoso.com no name sent is looked up as theirs: mary (looked up as mary@contoso.com), CONTOSO\\a (looked up as a@contoso.com), b (looked up as b@contoso.com), c (looked up as c@contoso.com), d (looked up as d@contoso.com), and 1 more',
    ]);
    // A store of DOMAIN\name users and a client without options: nothing to say.
    expect(realmCheck(parseClients(`10.0.0.1 ${S} vpn\n`, 'c'), users('CORP\\jdoe', 'mary'))).toEqual([]);
  });
});
