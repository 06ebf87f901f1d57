import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { codes, read, seedsFixture, tempDir } from './seed-test-helpers.js';

// Found by a black-box test of the PSKC reader (see docs/seed-formats.md).
const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
const tmp = tempDir();

/** One plain key (line 3 is its KeyPackage, line 8 the `data` beside its Secret). */
function oneKey(name: string, type: 'hotp' | 'totp', data: string): string {
  return tmp.file(
    name,
    `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="${NS}">
  <KeyPackage>
    <DeviceInfo><SerialNo>V-1</SerialNo></DeviceInfo>
    <Key Id="K-1" Algorithm="${NS}:${type}">
      <Data>
        <Secret><PlainValue>${TEST_SECRETS.a.toString('base64')}</PlainValue></Secret>
        ${data}
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>
`,
  );
}

const counter = (v: string): string => `<Counter><PlainValue>${v}</PlainValue></Counter>`;
const interval = (v: string): string => `<TimeInterval><PlainValue>${v}</PlainValue></TimeInterval>`;

describe('PSKC integers: text that is not a number is refused, not decoded into one', () => {
  // Each is valid Base64 without its padding (two bytes): "n/a" was read as counter 40950, "60s" as a 60235 s period.
  const words = ['n/a', '60s', 'abc', '1e3'];
  it.each(words.flatMap((w, i) => [['Counter', w, 'hotp', counter(w), i] as const, ['TimeInterval', w, 'totp', interval(w), i] as const]))(
    '%s %j -> value-invalid naming file, line and field; the key is left out',
    async (field, value, type, data, i) => {
      const path = oneKey(`word-${field}-${i}.pskc`, type, data);
      const { seeds, problems } = await read(path);
      expect(seeds).toEqual([]);
      expect(codes(problems)).toEqual(['error:value-invalid']);
      expect(problems[0]).toMatchObject({ file: path, line: 8, field, path: `KeyPackage[1]/Key/Data/${field}` });
      expect(problems[0]!.message).toBe(
        `the ${field} PlainValue of token V-1 is not a whole number: it must be decimal digits (RFC 6030), or Base64 (padded) of the number's digits or of its big-endian bytes; the key is left out`,
      );
      expect(problems[0]!.message).not.toContain(value);
    },
  );

  it('the forms files write are still read: decimal, Base64 of the digits, of 8 big-endian bytes or of fewer (python-pskc\'s test file)', async () => {
    for (const [text, expected] of [
      ['831791', 831791n],
      ['NzA5Nzkx', 709791n],
      ['AAYxSg==', 405834n],
      ['AAAAAAAAACo=', 42n],
      [' 7 ', 7n],
    ] as const) {
      const { seeds, problems } = await read(oneKey(`counter-${expected}.pskc`, 'hotp', counter(text)));
      expect(problems, text).toEqual([]);
      expect(seeds[0]!.counter, text).toBe(expected);
    }
    for (const text of ['60', 'NjA=', 'AAAAAAAAADw=', 'PA==']) {
      const { seeds, problems } = await read(oneKey(`interval-${text.replace(/\W/g, '_')}.pskc`, 'totp', interval(text)));
      expect(problems, text).toEqual([]);
      expect(seeds[0]!.period, text).toBe(60);
    }
  });

  it('an absurd period is refused: 0, or beyond a week (PERIOD_MAX, as every seed format), however written', async () => {
    for (const text of ['0', '604801', 'AAAAAAAAAAA=', '//////////8=', '-30']) {
      const { seeds, problems } = await read(oneKey(`period-${text.replace(/\W/g, '_')}.pskc`, 'totp', interval(text)));
      expect(seeds, text).toEqual([]);
      expect(problems.map((p) => [p.code, p.line, p.field]), text).toEqual([['value-invalid', 8, 'TimeInterval']]);
      expect(problems[0]!.message).toBe('TimeInterval of token V-1 must be a whole number from 1 to 604800 (seconds)');
    }
  });

  it("a draft's plain Value the same way (draft-hoyer's Data Name=\"COUNTER\")", async () => {
    const xml = readFileSync(seedsFixture('formats/draft-hoyer-00-secretcontainer.pskc'), 'utf8');
    expect(xml).toContain('<Value>AAAAAAAAAAw=</Value>');
    const { seeds, problems } = await read(tmp.file('hoyer-word.pskc', xml.replace('<Value>AAAAAAAAAAw=</Value>', '<Value>n/a</Value>')));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:value-invalid']);
    expect(problems[0]).toMatchObject({ field: 'Counter', path: 'Device[1]/Secret/Data[@Name="COUNTER"]' });
    expect(problems[0]!.message).toMatch(/^the Counter Value of token 98765432187 is not a whole number/);
  });
});

describe('PBKDF2 KeyLength the cipher cannot take', () => {
  // 22 characters: the error used to say "the password (--pskc-password-file) is 32 bytes".
  const password = 'correct-horse-battery1';
  const figure7 = readFileSync(seedsFixture('rfc6030-figure7.pskc'), 'utf8');

  it('is the file\'s KeyLength (with its line), not the password, that is named; PBKDF2 is not even run', async () => {
    expect(figure7.split('\n')[20]).toContain('<KeyLength>16</KeyLength>');
    const path = tmp.file('keylength-32.pskc', figure7.replace('<KeyLength>16</KeyLength>', '<KeyLength>32</KeyLength>'));
    for (const opts of [{ pskcPassword: password }, { pskcPasswords: [{ password, file: 'a.txt' }, { password: 'qwerty', file: 'b.txt' }] }]) {
      const { seeds, problems, text } = await read(path, opts);
      expect(seeds).toEqual([]);
      expect(codes(problems)).toEqual(['error:pskc-invalid']);
      expect(problems[0]).toMatchObject({ file: path, line: 21, field: 'KeyLength', path: 'EncryptionKey/DerivedKey/KeyDerivationMethod/PBKDF2-params/KeyLength' });
      expect(problems[0]!.message).toBe(
        "the file's PBKDF2 KeyLength (line 21) is 32 bytes, but its cipher (AES-128-CBC) needs a 16-byte key: the file's key derivation is wrong, not the password; ask the vendor for a corrected file",
      );
      expect(text).not.toContain(password);
      expect(text).not.toContain('qwerty');
    }
  });

  it('a KeyLength that fits the first value\'s cipher but not the MACKey\'s is named too', async () => {
    // The MACKey's EncryptionMethod is the file's first aes128-cbc.
    const path = tmp.file('mackey-aes256.pskc', figure7.replace('xmlenc#aes128-cbc', 'xmlenc#aes256-cbc'));
    const { seeds, problems, text } = await read(path, { pskcPassword: password });
    expect(seeds).toEqual([]);
    expect(problems).toMatchObject([{ code: 'pskc-invalid', line: 21, field: 'KeyLength' }]);
    expect(problems[0]!.message).toBe(
      "the file's PBKDF2 KeyLength (line 21) is 16 bytes, but the cipher AES-256-CBC needs a 32-byte key: the file's key derivation is wrong, not the password; ask the vendor for a corrected file",
    );
    expect(text).not.toContain(password);
  });
});

describe('KeyPackages outside the PSKC namespace (a prefixed root, unprefixed children)', () => {
  const pkg = `  <KeyPackage>
    <DeviceInfo><SerialNo>N-1</SerialNo></DeviceInfo>
    <Key Id="K-1" Algorithm="${NS}:totp"><Data><Secret><PlainValue>${TEST_SECRETS.a.toString('base64')}</PlainValue></Secret></Data></Key>
  </KeyPackage>
`;

  it('are not read, and the error says where they are and why (with the first one\'s line)', async () => {
    const path = tmp.file('prefixed-root.pskc', `<?xml version="1.0"?>\n<pskc:KeyContainer Version="1.0" xmlns:pskc="${NS}">\n\n${pkg}${pkg}</pskc:KeyContainer>\n`);
    const { seeds, problems } = await read(path);
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:pskc-invalid']);
    expect(problems[0]).toMatchObject({ file: path, line: 4, field: 'KeyPackage', path: 'KeyPackage' });
    expect(problems[0]!.message).toBe(
      `the KeyContainer holds no KeyPackage in its own namespace (${NS}): the first KeyPackage (line 4) is in no namespace, so it and any like it are not read (the KeyContainer's prefix "pskc" does not carry over to children written without one: the file needs them prefixed too, or the namespace declared as the default, xmlns="${NS}"); ask the vendor for a corrected file`,
    );
  });

  it('in another namespace, the same (without the prefix hint); beside packages in the namespace, ignored as before', async () => {
    const other = await read(tmp.file('other-ns.pskc', `<KeyContainer Version="1.0" xmlns="${NS}">\n${pkg.replace('<KeyPackage>', '<KeyPackage xmlns="urn:example:tokens">')}</KeyContainer>\n`));
    expect(other.seeds).toEqual([]);
    expect(codes(other.problems)).toEqual(['error:pskc-invalid']);
    expect(other.problems[0]).toMatchObject({ line: 2, field: 'KeyPackage' });
    expect(other.problems[0]!.message).toMatch(/^the KeyContainer holds no KeyPackage in its own namespace \(urn:ietf:params:xml:ns:keyprov:pskc\): the first KeyPackage \(line 2\) is in namespace "urn:example:tokens", so it and any like it are not read; ask the vendor/);

    const mixed = await read(tmp.file('mixed-ns.pskc', `<KeyContainer Version="1.0" xmlns="${NS}">\n${pkg.replace('<KeyPackage>', '<KeyPackage xmlns="urn:example:tokens">')}${pkg.replace('N-1', 'N-2')}</KeyContainer>\n`));
    expect(mixed.problems).toEqual([]);
    expect(mixed.seeds.map((s) => s.serial)).toEqual(['N-2']);
  });

  it('a container with no package at all says so at the KeyContainer', async () => {
    const { problems } = await read(tmp.file('empty.pskc', `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="${NS}"/>\n`));
    expect(problems).toMatchObject([{ code: 'pskc-invalid', line: 2, field: 'KeyPackage', message: 'the KeyContainer holds no KeyPackage' }]);
  });
});
