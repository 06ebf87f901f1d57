import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_PSK, TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { ProblemList, type Problem } from '../../../src/model/problem.js';
import { readSeedFiles, type SeedReadOptions } from '../../../src/source/seeds/read-seed-files.js';
import { codes, read, secretForms, seedsFixture, tempDir } from './seed-test-helpers.js';

// A black-box test: these problems had no field (or no line) in validate --format json although the
// reader knew them. Each is placed at the line and element it is about.
const tmp = tempDir();
const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
const place = (p: Problem): unknown => ({ code: p.code, severity: p.severity, line: p.line, path: p.path, field: p.field });

async function readAll(paths: string[], opts: SeedReadOptions = {}): Promise<Problem[]> {
  const problems = new ProblemList();
  await readSeedFiles(paths, opts, problems);
  return problems.items;
}

describe('seed-duplicate and secret-duplicate name the serial or secret field', () => {
  it('PSKC: SerialNo, a Key Id standing in for it, and Secret', async () => {
    const twice = await readAll([seedsFixture('psk-two-keys.pskc'), seedsFixture('psk-two-keys.pskc')], { pskcKey: TEST_PSK });
    expect(twice.map(place)).toEqual([
      { code: 'seed-duplicate', severity: 'warning', line: 15, path: undefined, field: 'SerialNo' },
      { code: 'seed-duplicate', severity: 'warning', line: 45, path: undefined, field: 'SerialNo' },
    ]);

    const secret = TEST_SECRETS.a.toString('base64');
    const pkg = (serial: string, id: string) => `  <KeyPackage>${serial ? `<DeviceInfo><SerialNo>${serial}</SerialNo></DeviceInfo>` : ''}<Key Id="${id}" Algorithm="${NS}:totp"><Data><Secret><PlainValue>${secret}</PlainValue></Secret></Data></Key></KeyPackage>\n`;
    const byId = tmp.file('by-id.pskc', `<KeyContainer Version="1.0" xmlns="${NS}">\n${pkg('', 'D-1')}${pkg('', 'D-1')}${pkg('D-3', 'K-3')}</KeyContainer>\n`);
    const { problems, text } = await read(byId);
    expect(problems.map(place)).toEqual([
      { code: 'seed-duplicate', severity: 'warning', line: 3, path: undefined, field: 'Id' },
      { code: 'secret-duplicate', severity: 'error', line: 4, path: undefined, field: 'Secret' },
    ]);
    for (const form of secretForms(TEST_SECRETS.a)) expect(text).not.toContain(form);
  });

  it('CSV: the columns as the header names them', async () => {
    const hex = (s: Buffer) => s.toString('hex');
    const generic = tmp.file('dup.csv', `Serial Number,Seed,Encoding\nG-1,${hex(TEST_SECRETS.a)},hex\nG-1,${hex(TEST_SECRETS.b)},hex\nG-3,${hex(TEST_SECRETS.a)},hex\n`);
    expect((await read(generic)).problems.map(place)).toEqual([
      { code: 'seed-duplicate', severity: 'error', line: 3, path: undefined, field: 'Serial Number' },
      { code: 'secret-duplicate', severity: 'error', line: 4, path: undefined, field: 'Seed' },
    ]);
    const oath = tmp.file('dup-oath.csv', `O-1, ${hex(TEST_SECRETS.a)}, totp\nO-2, ${hex(TEST_SECRETS.a)}, totp\nO-1, ${hex(TEST_SECRETS.c)}, totp\n`);
    expect((await read(oath)).problems.map(place)).toEqual([
      { code: 'secret-duplicate', severity: 'error', line: 2, path: undefined, field: 'key' },
      { code: 'seed-duplicate', severity: 'error', line: 3, path: undefined, field: 'serial' },
    ]);
  });
});

describe('a PSKC file refused as a whole is placed at the element at fault', () => {
  const figure6 = readFileSync(seedsFixture('rfc6030-figure6.pskc'), 'utf8');
  const figure7 = readFileSync(seedsFixture('rfc6030-figure7.pskc'), 'utf8');

  it('pskc-decrypt: no key, a wrong key (at the EncryptionKey), an unsupported cipher (at the value naming it)', async () => {
    const none = await read(seedsFixture('psk-two-keys.pskc'));
    expect(none.problems.map(place)).toEqual([{ code: 'pskc-decrypt', severity: 'error', line: 4, path: 'EncryptionKey', field: 'EncryptionKey' }]);
    const wrong = await read(seedsFixture('psk-two-keys.pskc'), { pskcKey: Buffer.alloc(16, 7) });
    expect(wrong.problems.map(place)).toEqual([{ code: 'pskc-decrypt', severity: 'error', line: 4, path: 'EncryptionKey', field: 'EncryptionKey' }]);
    const password = await read(seedsFixture('rfc6030-figure7.pskc'), { pskcPassword: 'qwertz' });
    expect(password.problems.map(place)).toEqual([{ code: 'pskc-decrypt', severity: 'error', line: 12, path: 'EncryptionKey', field: 'EncryptionKey' }]);
    expect(password.text).not.toContain('qwertz');

    const camellia = await read(tmp.file('camellia.pskc', readFileSync(seedsFixture('psk-two-keys.pskc'), 'utf8').replaceAll('aes128-cbc', 'camellia128-cbc')), { pskcKey: TEST_PSK });
    expect(camellia.problems.map(place)).toEqual([{ code: 'pskc-decrypt', severity: 'error', line: 29, path: 'KeyPackage[1]/Key/Data/Secret/EncryptedValue/EncryptionMethod', field: 'EncryptionMethod' }]);
  });

  it('PBKDF2 parameters: each at its own element, or at its parent when missing', async () => {
    const cases: [string, string, unknown][] = [
      ['no-salt', figure7.replace(/<Salt>[\s\S]*?<\/Salt>/, ''), { line: 16, path: 'EncryptionKey/DerivedKey/KeyDerivationMethod/PBKDF2-params', field: 'Salt' }],
      ['iterations', figure7.replace('<IterationCount>1000<', '<IterationCount>many<'), { line: 20, path: 'EncryptionKey/DerivedKey/KeyDerivationMethod/PBKDF2-params/IterationCount', field: 'IterationCount' }],
      ['keylength', figure7.replace('<KeyLength>16<', '<KeyLength>65<'), { line: 21, path: 'EncryptionKey/DerivedKey/KeyDerivationMethod/PBKDF2-params/KeyLength', field: 'KeyLength' }],
    ];
    for (const [name, xml, expected] of cases) {
      const { problems } = await read(tmp.file(`pbkdf2-${name}.pskc`, xml), { pskcPassword: 'qwerty' });
      expect(problems.map(place), name).toEqual([{ code: 'pskc-invalid', severity: 'error', ...(expected as object) }]);
    }
    const prf = await read(tmp.file('pbkdf2-prf.pskc', figure7.replace('<PRF/>', '<PRF Algorithm="urn:example:prf"/>')), { pskcPassword: 'qwerty' });
    expect(prf.problems.map(place)).toEqual([{ code: 'pskc-decrypt', severity: 'error', line: 22, path: 'EncryptionKey/DerivedKey/KeyDerivationMethod/PBKDF2-params/PRF', field: 'PRF' }]);
  });

  it('malformed XML, invalid UTF-8 and an unsupported Version: at the element the parser was in', async () => {
    const truncated = await read(seedsFixture('truncated.pskc'));
    expect(truncated.problems.map(place)).toEqual([{ code: 'pskc-invalid', severity: 'error', line: 16, path: 'KeyPackage[2]/DeviceInfo', field: 'DeviceInfo' }]);
    expect(figure7.split('\n')[70]).toContain('</pskc:Key>');
    const mismatched = await read(tmp.file('mismatched.pskc', figure7.replace('</pskc:Key>', '</pskc:Kee>')), { pskcPassword: 'qwerty' });
    expect(mismatched.problems.map(place)).toEqual([{ code: 'pskc-invalid', severity: 'error', line: 71, path: 'KeyPackage[1]/Key', field: 'Key' }]);

    const latin1 = Buffer.concat([Buffer.from(`<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="${NS}">\n<KeyPackage><DeviceInfo><Manufacturer>`), Buffer.from([0xc3, 0x28]), Buffer.from('</Manufacturer></DeviceInfo></KeyPackage></KeyContainer>')]);
    const utf8 = await read(tmp.file('latin1.pskc', latin1));
    expect(utf8.problems.map(place)).toEqual([{ code: 'pskc-invalid', severity: 'error', line: 3, path: 'KeyPackage[1]/DeviceInfo/Manufacturer', field: 'Manufacturer' }]);

    const version = await read(tmp.file('v2.pskc', figure6.replace('Version="1.0"', 'Version="2.0"')));
    // The KeyContainer's start tag spans lines 7-10: the line is where it ends, as for every element.
    expect(version.problems.map(place)).toEqual([{ code: 'pskc-invalid', severity: 'error', line: 10, path: undefined, field: 'Version' }]);
  });

  it('pskc-mac: the refusal at the first ValueMAC that failed; values with none at the first such value', async () => {
    const bad = await read(seedsFixture('bad-mac.pskc'), { pskcKey: TEST_PSK });
    expect(codes(bad.problems)).toEqual(['error:pskc-mac', 'error:pskc-mac']);
    expect(bad.problems.map(place)).toEqual([
      { code: 'pskc-mac', severity: 'error', line: 64, path: 'KeyPackage[2]/Key/Data/Secret/ValueMAC', field: 'ValueMAC' },
      { code: 'pskc-mac', severity: 'error', line: 64, path: 'KeyPackage[2]/Key/Data/Secret/ValueMAC', field: 'ValueMAC' },
    ]);
    expect(bad.problems[1]!.message).toMatch(/^1 ValueMAC check\(s\) failed \(the first at line 64\), so the whole file is refused/);

    for (const mode of ['fail', 'allow-unprotected'] as const) {
      const none = await read(seedsFixture('no-mac.pskc'), { pskcKey: TEST_PSK, pskcMac: mode });
      expect(none.problems.map(place), mode).toEqual([{ code: 'pskc-mac', severity: mode === 'fail' ? 'error' : 'warning', line: 19, path: 'KeyPackage[1]/Key/Data/Secret', field: 'ValueMAC' }]);
    }
  });
});

/** A lead of an earlier session: a fault deep in a KeyPackage was placed at the package's first line, not its own. */
describe('a fault inside a KeyPackage names its own element\'s line and field, not the package\'s', () => {
  const tmp = tempDir();
  const pkg = (params: string, data: string, policy = '') => `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="${NS}">
  <KeyPackage>
    <DeviceInfo>
      <Manufacturer>Acme</Manufacturer>
      <SerialNo>L-1</SerialNo>
    </DeviceInfo>
    <Key Id="L-1" Algorithm="${NS}:hotp">
      <AlgorithmParameters>
        ${params}
      </AlgorithmParameters>
      <Data>
        <Secret>
          <PlainValue>${TEST_SECRETS.a.toString('base64')}</PlainValue>
        </Secret>
        ${data}
      </Data>
      ${policy}
    </Key>
  </KeyPackage>
</KeyContainer>
`;
  it.each([
    ['a Suite not read', pkg('<Suite>MD5</Suite>', ''), 10, 'Suite'],
    ['a ResponseFormat Length', pkg('<ResponseFormat Length="5" Encoding="DECIMAL"/>', ''), 10, 'Length'],
    ['a Counter not a number', pkg('', '<Counter><PlainValue>n/a</PlainValue></Counter>'), 16, 'Counter'],
    ['a Policy that leaves the key out', pkg('', '', '<Policy><KeyUsage>CR</KeyUsage></Policy>'), 18, 'KeyUsage'],
  ])('%s', async (name, xml, line, field) => {
    const { problems } = await read(tmp.file(`${name.replace(/\W/g, '-')}.pskc`, xml));
    expect(problems.map((p) => [p.line, p.field])).toEqual([[line, field]]);
  });
});
