import { chmodSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { clientFor, parseClients, readClientsFile } from '../../../src/shim/radius/clients-file.js';
import { parseReplyAttributes } from '../../../src/shim/radius/reply-attributes.js';
import { tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());
const S = 'a-long-shared-secret-0123';

describe('RADIUS clients file', () => {
  it('reads ADDRESS[/PREFIX] SECRET [NAME] [options], comments, and matches the most specific network', () => {
    const clients = parseClients(
      `# VPN concentrators\n10.0.0.0/8 ${S} campus rate-limit=200\n10.1.2.3 ${S}x vpn-1   # the big one\n\n2001:db8::/32 ${S} v6 source-max-fails=50\n`,
      'clients',
    );
    expect(clientFor(clients, '10.1.2.3')?.name).toBe('vpn-1');
    expect(clientFor(clients, '::ffff:10.1.2.3')?.name).toBe('vpn-1');
    expect(clientFor(clients, '10.9.9.9')).toMatchObject({ name: 'campus', rateLimit: 200 });
    expect(clientFor(clients, '2001:db8::7')).toMatchObject({ name: 'v6', sourceMaxFails: 50 });
    expect(clientFor(clients, '192.0.2.1')).toBeUndefined();
    expect(clientFor(clients, '10.1.2.3')!.secret.toString()).toBe(`${S}x`);
  });

  it('names file, line and field of what is wrong', () => {
    expect(() => parseClients('10.0.0.1\n', 'c')).toThrow(/c: line 1: expected ADDRESS\[\/PREFIX\] SECRET/);
    expect(() => parseClients(`# x\nvpn.example ${S}\n`, 'c')).toThrow(/c: line 2: the first field is not an IP address or network/);
    expect(() => parseClients(`10.0.0.1/8/99 ${S}\n`, 'c')).toThrow(/line 1: the first field is not an IP address or network/);
    expect(() => parseClients(`10.0.0.0/33 ${S}\n`, 'c')).toThrow(/prefix \/33 must be 0 to 32/);
    expect(() => parseClients('10.0.0.1 short\n', 'c')).toThrow(/shorter than 16 characters/);
    expect(() => parseClients(`10.0.0.1 ${S} n color=blue\n`, 'c')).toThrow(/line 1: field 4 is not an option/);
    expect(() => parseClients(`10.0.0.1 ${S} n rate-limit=many\n`, 'c')).toThrow(/line 1: rate-limit takes a whole number/);
    // The serve flags' ranges: a burst of 0 refused that VPN's every request, for good (a black-box test).
    expect(() => parseClients(`10.0.0.1 ${S} n rate-burst=0\n`, 'c')).toThrow(/line 1: rate-burst takes a whole number from 1 to 1000000000/);
    expect(() => parseClients(`10.0.0.1 ${S} n source-max-fails=99999999999999999999\n`, 'c')).toThrow(/line 1: source-max-fails takes a whole number from 0 to 1000000/);
    expect(parseClients(`10.0.0.1 ${S} n rate-limit=0 rate-burst=1 source-max-fails=0\n`, 'c')[0]).toMatchObject({ rateLimit: 0, rateBurst: 1, sourceMaxFails: 0 });
    expect(() => parseClients(`10.0.0.0/24 ${S}\n10.0.0.5/24 ${S}\n`, 'c')).toThrow(/line 2: 10\.0\.0\.5\/24 is already the client of line 1/);
    expect(() => parseClients(`::ffff:10.0.0.0/24 ${S}\n`, 'c')).toThrow(/line 1: an IPv4-mapped network needs a prefix of \/96 or more/);
    expect(() => parseClients(`10.0.0.1 ${S} n rate-limit=5 rate-limit=7\n`, 'c')).toThrow(/line 1: rate-limit is given twice/);
    expect(() => parseClients(`10.0.0.1 ${S}#tail vpn\n`, 'c')).toThrow(/line 1: '#' inside a field: a comment starts with '#' after white space/);
    // A comment after white space, or a whole comment line, is fine.
    expect(parseClients(`# VPNs\n10.0.0.1 ${S} vpn # the one #1\n`, 'c').map((c) => c.name)).toEqual(['vpn']);
    expect(() => parseClients(`10.0.0.1 ${S}\n10.0.0.1/32 ${S}\n`, 'c')).toThrow(/line 2: 10\.0\.0\.1\/32 is already the client of line 1/);
    expect(() => parseClients('# nothing\n', 'c')).toThrow(/no RADIUS client/);
  });

  it('refuses a line that is not UTF-8, in the clients file and the attributes file: a secret or value would differ from what was written', () => {
    tmp = tempDir();
    const clients = tmp.path('clients');
    writeFileSync(clients, Buffer.concat([Buffer.from('# vpn\n127.0.0.1 Vq7sYx9kLmN2pR4t'), Buffer.from([0xe9]), Buffer.from('W6zA8cE0gJ3hF5dB latin\n')]), { mode: 0o600 });
    expect(() => readClientsFile(clients)).toThrow(/clients: line 2: not UTF-8 text/);
    const attributes = Buffer.concat([Buffer.from('group:VPN Class='), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]).toString('utf8');
    expect(() => parseReplyAttributes(attributes, 'a')).toThrow(/a: line 1: not UTF-8 text/);
  });

  it('never repeats a field in an error, since a secret written in the wrong place would reach a log', () => {
    const secret = 'Secret-With-No-Address-0123456789';
    for (const text of [`${secret} 10.0.0.1 vpn\n`, `10.0.0.1 first-half-of-it-0123 second-half-${secret} more\n`]) {
      let message = '';
      try {
        parseClients(text, 'c');
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^c: line 1: /);
      expect(message).not.toContain(secret);
    }
  });

  it('reads a secret or name in double quotes (spaces, #, " and \\ inside); a quote inside an unquoted field is an ordinary character', () => {
    const clients = parseClients(
      [
        '10.0.0.1 "0123456789abcdef XYZ" vpn-1',
        '10.0.0.2 "hash#and \\"quote\\" and \\\\ back" "VPN two"',
        '10.0.0.3 "0123456789abcdef" "a=b" rate-limit=5',
        // Files written before quotes existed read as they did.
        '10.0.0.4 ab"cd\\ef0123456789"x old',
        '',
      ].join('\n'),
      'c',
    );
    const at = (a: string) => clientFor(clients, a)!;
    expect(at('10.0.0.1').secret.toString()).toBe('0123456789abcdef XYZ');
    expect(at('10.0.0.1').name).toBe('vpn-1');
    expect(at('10.0.0.2').secret.toString()).toBe('hash#and "quote" and \\ back');
    expect(at('10.0.0.2').name).toBe('VPN two');
    // A quoted third field is the name even with an '='.
    expect(at('10.0.0.3')).toMatchObject({ name: 'a=b', rateLimit: 5 });
    expect(at('10.0.0.4').secret.toString()).toBe('ab"cd\\ef0123456789"x');
    expect(clients.map((c) => c.line).sort()).toEqual([1, 2, 3, 4]);
  });

  it('refuses a quote left open, text after a closing quote, or a stray backslash in quotes, naming file, line and field, never the secret', () => {
    const secret = 'Secret With Spaces 0123456789';
    const cases: [string, RegExp][] = [
      [`# vpn\n10.0.0.1 "${secret} vpn-1\n`, /^c: line 2: field 2: the quote is not closed \(a " is missing at its end\)$/],
      [`10.0.0.1 "${secret}"tail vpn-1\n`, /^c: line 1: field 2: text after the closing quote/],
      [`10.0.0.1 "${secret}\\n" vpn-1\n`, /^c: line 1: field 2: inside quotes a backslash goes only before " or \\/],
      [`10.0.0.1 ${secret} vpn-1\n`, /^c: line 1: the shared secret is shorter than 16 characters .*; an unquoted secret ends at the first space \(one holding spaces goes in double quotes\)$/],
      [`10.0.0.1 "0123456789abcdef" "VPN ${secret}\n`, /^c: line 1: field 3: the quote is not closed/],
      [`10.0.0.1 0123456789abcdef#${secret}\n`, /^c: line 1: '#' inside a field: .*a secret holding '#' goes in double quotes$/],
      [`10.0.0.1 0123456789abcdef vpn ${secret}\n`, /^c: line 1: field 4 is not an option .*; a secret holding spaces goes in double quotes$/],
    ];
    for (const [text, expected] of cases) {
      let message = '';
      try {
        parseClients(text, 'c');
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(expected);
      for (const word of secret.split(' ')) expect(message).not.toContain(word);
    }
  });

  it('matches an address only against networks of its family; an IPv4-mapped network is the IPv4 one', () => {
    const clients = parseClients(`10.0.0.5 ${S} vpn-1\n::ffff:10.0.0.0/104 ${S}x mapped\n::/0 ${S}y any-v6\n`, 'c');
    // /32 beats the mapped /104 (an IPv4 /8): the prefixes compare within IPv4.
    expect(clientFor(clients, '10.0.0.5')?.name).toBe('vpn-1');
    expect(clientFor(clients, '10.9.9.9')?.name).toBe('mapped');
    expect(clientFor(clients, '::ffff:10.9.9.9')?.name).toBe('mapped');
    // An IPv6 catch-all does not catch IPv4 clients.
    expect(clientFor(clients, '192.0.2.1')).toBeUndefined();
    expect(clientFor(clients, '2001:db8::1')?.name).toBe('any-v6');
    // Either notation of a mapped address; one name for a VPN's two addresses (one label in the audit log).
    const both = parseClients(`::FFFF:a00:5 ${S} vpn\n2001:db8::5 ${S} vpn\n::ffff:192.0.2.0/120 ${S} pool\n`, 'c');
    expect(clientFor(both, '10.0.0.5')?.name).toBe('vpn');
    expect(clientFor(both, '::ffff:10.0.0.5')?.name).toBe('vpn');
    expect(clientFor(both, '2001:db8::5')?.name).toBe('vpn');
    expect(clientFor(both, '192.0.2.77')?.name).toBe('pool');
    expect(clientFor(both, '10.0.0.6')).toBeUndefined();
  });

  it('refuses two clients of one name, naming both lines (a black-box test: the audit log showed only radius:same); one name may stand for a VPN\'s IPv4 and IPv6 lines', () => {
    expect(() => parseClients(`127.0.0.1 ${S}1 same\n127.0.0.2 ${S}2 same\n`, 'c')).toThrow(/^c: line 2: the name \(field 3\) is already the name of line 1; give each client its own name/);
    // A line without a name is named by its address as written.
    expect(() => parseClients(`10.0.0.1 ${S}1 10.0.0.9\n10.0.0.9 ${S}2\n`, 'c')).toThrow(/^c: line 2: the address, which is the name of a line without one, is already the name of line 1/);
    expect(() => parseClients(`10.0.0.1 ${S} vpn\n2001:db8::1 ${S} vpn\n10.0.0.2 ${S}x vpn\n`, 'c')).toThrow(/line 3: the name \(field 3\) is already the name of line 1/);
    // Names are not secrets, but the message repeats none (one may be the rest of a secret cut at a space).
    expect(() => parseClients(`127.0.0.1 ${S} tail\n127.0.0.2 ${S} tail\n`, 'c')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('tail') }));
    expect(parseClients(`10.0.0.1 ${S} vpn\n2001:db8::1 ${S} vpn\n`, 'c').map((c) => c.name)).toEqual(['vpn', 'vpn']);
  });

  it('reads reasons=detailed (rejects say why; off by default) and refuses another value', () => {
    const [plain, detailed] = [parseClients(`10.0.0.1 ${S} vpn\n`, 'c')[0]!, parseClients(`10.0.0.1 ${S} app reasons=detailed source-max-fails=5\n`, 'c')[0]!];
    expect(plain.detailedReasons).toBeUndefined();
    expect(detailed).toMatchObject({ detailedReasons: true, sourceMaxFails: 5 });
    expect(parseClients(`10.0.0.1 ${S} vpn reasons=generic\n`, 'c')[0]!.detailedReasons).toBe(false);
    expect(() => parseClients(`10.0.0.1 ${S} vpn reasons=yes\n`, 'c')).toThrow(/line 1: reasons takes generic or detailed/);
    expect(() => parseClients(`10.0.0.1 ${S} vpn reasons=detailed reasons=generic\n`, 'c')).toThrow(/line 1: reasons is given twice/);
    expect(() => parseClients(`10.0.0.1 ${S} vpn toString=1\n`, 'c')).toThrow(/line 1: field 4 is not an option/);
    // Beside the realm options (user-realm.ts), in any order.
    expect(parseClients(`10.0.0.1 ${S} vpn strip-realm=CONTOSO reasons=detailed default-domain=contoso.com\n`, 'c')[0]).toMatchObject({ detailedReasons: true, realm: { strip: ['contoso'], defaultDomain: 'contoso.com' } });
    expect(() => parseClients(`10.0.0.1 ${S} vpn reason=detailed\n`, 'c')).toThrow(/field 4 is not an option \(rate-limit=N, rate-burst=N, source-max-fails=N, reasons=detailed, strip-realm=REALM\[,REALM\.\.\.\], default-domain=DOMAIN\)/);
  });

  it('issue 17 item 17: refuses a clients file that group or others can read, whatever --strict-permissions says', () => {
    tmp = tempDir();
    const file = tmp.path('clients');
    writeFileSync(file, `127.0.0.1 ${S} local\n`, { mode: 0o600 });
    expect(readClientsFile(file)).toHaveLength(1);
    chmodSync(file, 0o644);
    expect(() => readClientsFile(file)).toThrow(/RADIUS clients file .*clients has mode 0644: group or others can access it; chmod 600 it/);
    chmodSync(file, 0o640);
    expect(() => readClientsFile(file)).toThrow(/mode 0640/);
  });
});

describe('RADIUS reply attributes file', () => {
  it('gives a user its own rule, else its group\'s; encodes text, integers and addresses', () => {
    const rules = parseReplyAttributes('group:Engineering Filter-Id=eng Session-Timeout=3600\nuser:Ivan@Contoso.com Class=vpn-admins Framed-IP-Address=10.8.0.7 # ivan\n', 'a');
    expect(rules.forUser('ivan@contoso.com', 'Engineering')).toEqual([
      { type: 25, value: Buffer.from('vpn-admins') },
      { type: 8, value: Buffer.from([10, 8, 0, 7]) },
    ]);
    expect(rules.forUser('grace@contoso.com', 'Engineering')).toEqual([
      { type: 11, value: Buffer.from('eng') },
      { type: 27, value: Buffer.from([0, 0, 0x0e, 0x10]) },
    ]);
    expect(rules.forUser('zoe@contoso.com', undefined)).toEqual([]);
    expect(() => parseReplyAttributes('grace Class=x\n', 'a')).toThrow(/a: line 1: expected user:UPN or group:NAME/);
    expect(() => parseReplyAttributes('user:x Colour=blue\n', 'a')).toThrow(/Colour=blue: expected Name=value with Name one of/);
    // A name Object.prototype has is no attribute either (it was a TypeError).
    for (const name of ['toString', 'constructor', '__proto__']) expect(() => parseReplyAttributes(`user:x ${name}=1\n`, 'a')).toThrow(new RegExp(`${name}=1: expected Name=value with Name one of`));
    expect(() => parseReplyAttributes('user:x Session-Timeout=soon\n', 'a')).toThrow(/Session-Timeout takes a whole number/);
    // The range is said (a black-box test read "takes a whole number" for one too large).
    expect(() => parseReplyAttributes('user:x Session-Timeout=99999999999\n', 'a')).toThrow(/Session-Timeout takes a whole number from 0 to 4294967295/);
    expect(() => parseReplyAttributes('user:x Framed-IP-Netmask=255.0.255.0\n', 'a')).toThrow(/Framed-IP-Netmask 255\.0\.255\.0 is no netmask/);
    expect(parseReplyAttributes('user:x Framed-IP-Netmask=255.255.240.0\n', 'a').forUser('x', undefined)).toHaveLength(1);
    // '#' inside a field is the field's here (guest user names hold #EXT#), a comment after white space.
    expect(parseReplyAttributes('user:ann_fabrikam.com#EXT#@contoso.onmicrosoft.com Filter-Id=g#1 # guest\n', 'a').forUser('ann_fabrikam.com#ext#@contoso.onmicrosoft.com', undefined)).toEqual([{ type: 11, value: Buffer.from('g#1') }]);
    // Group names match whatever their case (as Windows compares them); a rule naming no one is pointed out.
    expect(rules.forUser('grace@contoso.com', 'ENGINEERING')).toHaveLength(2);
    const unmatched = parseReplyAttributes('group:Engineering Class=a\ngroup:Nope Class=b\nuser:nobody@contoso.com Class=c\nuser:Ivan@contoso.com Class=d\n', 'a');
    expect(unmatched.unmatched([{ key: 'ivan@contoso.com', group: 'engineering' }, { key: 'zoe@contoso.com' }])).toEqual([
      'warning: a: line 2: group:Nope names no group of the store: it gives no one attributes',
      'warning: a: line 3: user:nobody@contoso.com names no user of the store: it gives no one attributes',
    ]);
    // What would not fit an answer is refused when the file is read, not when a user is accepted.
    const many = Array.from({ length: 9 }, () => `Class=${'c'.repeat(250)}`).join(' ');
    expect(() => parseReplyAttributes(`group:VPN ${many}\n`, 'a')).toThrow(/a: line 1: group:VPN's attributes take 2268 bytes; at most 2048 fit in an answer/);
  });

  it('refuses a single-valued attribute given twice in a rule (RFC 2865 5.44), names file, line and attribute; repeatable ones may repeat', () => {
    expect(() => parseReplyAttributes('# rules\nuser:alice@contoso.com Session-Timeout=5 Session-Timeout=6\n', '/etc/mfa-shim/radius-attributes')).toThrow(
      '/etc/mfa-shim/radius-attributes: line 2: Session-Timeout is given more than once; an Access-Accept carries it at most once (RFC 2865 5.44)',
    );
    for (const pair of ['Idle-Timeout=60', 'Framed-IP-Address=10.8.0.7', 'Framed-IP-Netmask=255.255.255.0', 'Framed-Pool=vpn']) {
      expect(() => parseReplyAttributes(`group:VPN ${pair} Class=x ${pair}\n`, 'a')).toThrow(`a: line 1: ${pair.split('=')[0]} is given more than once`);
    }
    const rules = parseReplyAttributes('group:VPN Class=a Class=b Filter-Id=f Filter-Id=g Reply-Message=Hello Reply-Message=there\n', 'a');
    expect(rules.forUser('ivan@contoso.com', 'VPN').map((a) => a.value.toString())).toEqual(['a', 'b', 'f', 'g', 'Hello', 'there']);
  });

  it('reads group names, users and values in double quotes, so they can hold spaces (MFA Server groups are free text)', () => {
    const rules = parseReplyAttributes(
      [
        'group:"VPN Users" Reply-Message="Welcome to the VPN" Class=vpn-users   # quoted and not',
        'user:"ivan@contoso.com" Filter-Id="a \\"b\\" \\\\ c" Class="g #1"',
        // A quote inside an unquoted value is an ordinary character, as it always was.
        'group:Ops Reply-Message=Say_"hi"',
        '"group:Whole Field" "Class=whole one"',
        '',
      ].join('\n'),
      'a',
    );
    const text = (user: string, group?: string) => rules.forUser(user, group).map((a) => [a.type, a.value.toString()]);
    expect(text('grace@contoso.com', 'vpn users')).toEqual([[18, 'Welcome to the VPN'], [25, 'vpn-users']]);
    expect(text('ivan@contoso.com', 'VPN Users')).toEqual([[11, 'a "b" \\ c'], [25, 'g #1']]);
    expect(text('zoe@contoso.com', 'Ops')).toEqual([[18, 'Say_"hi"']]);
    expect(text('zoe@contoso.com', 'whole field')).toEqual([[25, 'whole one']]);
    // Messages show a name with spaces as it is written.
    expect(rules.unmatched([])).toContain('warning: a: line 1: group:"VPN Users" names no group of the store: it gives no one attributes');
  });

  it('refuses unquoted spaces and a quote left open, naming file, line and what is wrong', () => {
    expect(() => parseReplyAttributes('group:VPN-Admins Reply-Message=Welcome to the VPN\n', 'a')).toThrow(
      /^a: line 1: to: expected Name=value with Name one of .*; a name or value with spaces goes in double quotes \(group:"VPN Users", Reply-Message="Welcome to the VPN"\)$/,
    );
    // A backslash outside quotes is an ordinary character, not an escape.
    expect(() => parseReplyAttributes('group:VPN\\ Users Class=x\n', 'a')).toThrow(/^a: line 1: Users: expected Name=value/);
    expect(() => parseReplyAttributes('# rules\ngroup:"VPN Users Class=x\n', 'a')).toThrow(/^a: line 2: field 1: the quote is not closed \(a " is missing at its end\)$/);
    expect(() => parseReplyAttributes('group:VPN Reply-Message="Welcome to the VPN\n', 'a')).toThrow(/^a: line 1: field 2: the quote is not closed/);
    expect(() => parseReplyAttributes('group:VPN Class="a"b\n', 'a')).toThrow(/^a: line 1: field 2: text after the closing quote/);
    expect(() => parseReplyAttributes('group:VPN Filter-Id="DOMAIN\\admins"\n', 'a')).toThrow(/^a: line 1: field 2: inside quotes a backslash goes only before " or \\ \(write \\\\ for a backslash\)$/);
    expect(() => parseReplyAttributes('group:"" Class=x\n', 'a')).toThrow(/^a: line 1: expected user:UPN or group:NAME/);
    expect(() => parseReplyAttributes('group:"VPN Users" Class=x\ngroup:"vpn users" Class=y\n', 'a')).toThrow(/^a: line 2: group:"vpn users" has a rule already$/);
  });

  it('a user rule and a group rule both giving Session-Timeout: the user\'s alone is sent (its rule replaces the group\'s whole)', () => {
    const rules = parseReplyAttributes('group:VPN Session-Timeout=3600 Class=vpn\nuser:ivan@contoso.com Session-Timeout=60\n', 'a');
    expect(rules.forUser('ivan@contoso.com', 'VPN')).toEqual([{ type: 27, value: Buffer.from([0, 0, 0, 60]) }]);
  });
});
