import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_PSK, TEST_SECRETS } from '../../fixtures/make-contoso-seeds.js';
import { runMain } from '../helpers/run-main.js';
import { secretForms, seedsFixture, tempDir } from '../source/seeds/seed-test-helpers.js';

interface Entry {
  file: string;
  line: number | null;
  field: string | null;
  code: string;
}

/**
 * A black-box test: in validate --format json, seed-duplicate, secret-duplicate, pskc-decrypt, the
 * PBKDF2 and malformed-XML pskc-invalid errors had `field: null`, and the pskc-mac refusal and
 * seed-format-unknown `line: null`, although the reader knew them.
 */
describe('validate --format json: seed file problems carry their line and field', () => {
  const tmp = tempDir();
  const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
  const psk = readFileSync(seedsFixture('psk-two-keys.pskc'), 'utf8');
  const secrets = [...psk.matchAll(/<Secret>[\s\S]*?<\/Secret>/g)].map((m) => m[0]);
  const password = 'correct-horse-battery1';
  const files = {
    copy: tmp.file('copy.pskc', psk),
    swapped: tmp.file('swapped.pskc', psk.replace(secrets[1]!, secrets[0]!).replace(/T-([12])</g, 'S-$1<')),
    badMac: seedsFixture('bad-mac.pskc'),
    keyLength: tmp.file('keylength.pskc', readFileSync(seedsFixture('rfc6030-figure7.pskc'), 'utf8').replace('<KeyLength>16<', '<KeyLength>32<')),
    wrongKeyLength: seedsFixture('aes192-hotp-encrypted-counter.pskc'),
    truncated: seedsFixture('truncated.pskc'),
    counter: tmp.file('counter.pskc', `<KeyContainer Version="1.0" xmlns="${NS}"><KeyPackage><DeviceInfo><SerialNo>W-1</SerialNo></DeviceInfo><Key Algorithm="${NS}:hotp"><Data><Secret><PlainValue>${TEST_SECRETS.c.toString('base64')}</PlainValue></Secret><Counter><PlainValue>n/a</PlainValue></Counter></Data></Key></KeyPackage></KeyContainer>\n`),
    prefixed: tmp.file('prefixed.pskc', `<pskc:KeyContainer Version="1.0" xmlns:pskc="${NS}">\n<KeyPackage><DeviceInfo><SerialNo>P-1</SerialNo></DeviceInfo></KeyPackage>\n</pskc:KeyContainer>\n`),
    unknown: tmp.file('unknown.csv', 'VT00092,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,6\n'),
  };

  it('every error and warning of these files has both, and the JSON never holds a secret or the password', async () => {
    const keyFile = tmp.file('psk.hex', TEST_PSK.toString('hex'));
    const passwordFile = tmp.file('password.txt', `${password}\n`);
    // psk-two-keys.pskc and a copy of it: its serials repeated (the same file given twice is read once).
    const tokens = [seedsFixture('psk-two-keys.pskc'), ...Object.values(files)].flatMap((f) => ['--tokens', f]);
    const r = await runMain(['validate', '--source', 'fixtures/contoso', ...tokens, '--pskc-key-file', keyFile, '--pskc-password-file', passwordFile, '--format', 'json']);
    const report = JSON.parse(r.stdout) as { errors: Entry[]; warnings: Entry[] };
    const ours = new Set<string>(Object.values(files));
    // (seed-unassigned: these tokens are no user's in the sample, which is beside the point here.)
    const found = [...report.errors, ...report.warnings].filter((p) => ours.has(p.file) && p.code !== 'seed-unassigned');
    const byFile = (file: string) => found.filter((p) => p.file === file).map((p) => `${p.code}@${p.line}:${p.field}`);
    expect(byFile(files.copy)).toEqual(['seed-duplicate@15:SerialNo', 'seed-duplicate@45:SerialNo']);
    expect(byFile(files.swapped)).toEqual(['secret-duplicate@15:Secret', 'secret-duplicate@45:Secret']);
    expect(byFile(files.badMac)).toEqual(['pskc-mac@64:ValueMAC', 'pskc-mac@64:ValueMAC']);
    expect(byFile(files.keyLength)).toEqual(['pskc-invalid@21:KeyLength']);
    expect(byFile(files.wrongKeyLength)).toEqual(['pskc-decrypt@4:EncryptionKey']);
    expect(byFile(files.truncated)).toEqual(['pskc-invalid@16:DeviceInfo']);
    expect(byFile(files.counter)).toEqual(['value-invalid@1:Counter']);
    expect(byFile(files.prefixed)).toEqual(['pskc-invalid@2:KeyPackage']);
    expect(byFile(files.unknown)).toEqual(['seed-format-unknown@1:null']);
    for (const form of [password, ...Object.values(TEST_SECRETS).flatMap(secretForms), TEST_PSK.toString('hex')]) expect(r.stdout + r.stderr).not.toContain(form);
  });
});
