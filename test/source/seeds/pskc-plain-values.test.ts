import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_SECRETS } from '../../../fixtures/make-contoso-seeds.js';
import { secretFingerprint } from '../../../src/model/secret.js';
import { loadPskcKeyFile } from '../../../src/source/seeds/read-seed-files.js';
import { codes, contosoToken, read, secretForms, tempDir } from './seed-test-helpers.js';

// A black-box review: in a file that encrypts its values, a KeyPackage with a PlainValue secret was
// read in silence, and so was a Secret with both a PlainValue and an EncryptedValue (the latter used).
const tmp = tempDir();
const encrypted = readFileSync(contosoToken('seeds-psk.pskc'), 'utf8');
const NS = 'urn:ietf:params:xml:ns:keyprov:pskc';
const TEST_PSK = loadPskcKeyFile(contosoToken('psk.hex'));

const plainPackage = `  <KeyPackage>
    <DeviceInfo><SerialNo>P-1</SerialNo></DeviceInfo>
    <Key Id="P-1" Algorithm="${NS}:totp">
      <Data><Secret><PlainValue>${TEST_SECRETS.b.toString('base64')}</PlainValue></Secret></Data>
    </Key>
  </KeyPackage>
`;

describe('plain values in an encrypted PSKC file', () => {
  it('a KeyPackage whose Secret is a PlainValue is read, with a pskc-plain-value warning naming file, line and serial', async () => {
    const path = tmp.file('mixed.pskc', encrypted.replace('</KeyContainer>', `${plainPackage}</KeyContainer>`));
    const line = encrypted.split('\n').length - 1 + 3; // the plain KeyPackage's Data: 3 lines below where </KeyContainer> was
    const { seeds, problems, text } = await read(path, { pskcKey: TEST_PSK });
    expect(seeds.map((s) => s.serial)).toEqual(['20010009', 'P-1']);
    expect(codes(problems)).toEqual(['warning:pskc-plain-value']);
    expect(problems[0]).toMatchObject({ file: path, line, field: 'Secret', path: 'KeyPackage[2]/Key/Data/Secret/PlainValue' });
    expect(problems[0]!.message).toBe(
      'the Secret of token P-1 is a PlainValue in a file that encrypts its values (EncryptionKey, MACMethod): it is read, but neither the key nor a ValueMAC shows it was not put in or altered after the file was made; check it with the vendor',
    );
    for (const form of secretForms(TEST_SECRETS.b)) expect(text).not.toContain(form);
  });

  it('a Secret with both a PlainValue and an EncryptedValue: the EncryptedValue is read, with a pskc-invalid warning', async () => {
    const path = tmp.file('both.pskc', encrypted.replace('<EncryptedValue>', `<PlainValue>${TEST_SECRETS.b.toString('base64')}</PlainValue><EncryptedValue>`));
    const { seeds, problems, text } = await read(path, { pskcKey: TEST_PSK });
    const original = await read(contosoToken('seeds-psk.pskc'), { pskcKey: TEST_PSK });
    expect(seeds.map((s) => [s.serial, s.fingerprint])).toEqual(original.seeds.map((s) => [s.serial, s.fingerprint]));
    expect(seeds[0]!.fingerprint).not.toBe(secretFingerprint(TEST_SECRETS.b));
    expect(codes(problems)).toEqual(['warning:pskc-invalid']);
    expect(problems[0]).toMatchObject({ file: path, line: 29, field: 'Secret', path: 'KeyPackage[1]/Key/Data/Secret/PlainValue' });
    expect(problems[0]!.message).toBe('the Secret of token 20010009 has both a PlainValue and an EncryptedValue: the EncryptedValue is read and the PlainValue ignored; ask the vendor which is right');
    for (const form of secretForms(TEST_SECRETS.b)) expect(text).not.toContain(form);
  });

  it('a file that encrypts nothing says nothing about its plain values', async () => {
    const path = tmp.file('plain.pskc', `<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="${NS}">\n${plainPackage}</KeyContainer>\n`);
    const { seeds, problems } = await read(path);
    expect(seeds).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});
