import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_PSK, TEST_SECRETS } from '../../fixtures/make-contoso-seeds.js';
import { formatProblem } from '../../src/model/problem.js';
import { readExport } from '../../src/source/export-bundle.js';
import { secretForms, seedsFixture } from './seeds/seed-test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'seed-left-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 20 bytes, Base32; and 10 bytes (kept, with a secret-short warning). */
const GOOD = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const SHORT = 'GEZDGNBVGY3TQOJQ';
const BAD_B32 = 'NOT!BASE32@@';

function pskc(serial: string, length: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <DeviceInfo><SerialNo>${serial}</SerialNo></DeviceInfo>
    <Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
      <AlgorithmParameters><ResponseFormat Length="${length}" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data><Secret><PlainValue>${TEST_SECRETS.a.toString('base64')}</PlainValue></Secret><TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>
    </Key>
  </KeyPackage>
</KeyContainer>
`;
}

/**
 * A black-box test: a user whose serial is in a seed file, but whose record its reader skipped (a bad
 * MAC under --pskc-mac skip, a secret that is not Base32, 5 digits), was told the serial is "in none
 * of the seed files given". Each reader's format, and the cases that must not change.
 */
let read: ReturnType<typeof readExport> | undefined;
function exportWithSkippedRecords(): ReturnType<typeof readExport> {
  read ??= readSkippedRecords();
  return read;
}

async function readSkippedRecords() {
  const source = join(dir, 'export');
  mkdirSync(source);
  const users = ['B-1', 'G-5', 'K-1', 'E-1', 'O-1', 'T-2', 'D-5', 'TWICE-1', 'NONE-1'];
  writeFileSync(join(source, 'users.csv'), `username,oath_token_serial\n${users.map((s) => `${s.toLowerCase()}@contoso.com,${s}`).join('\n')}\n`);
  const files = {
    'generic.csv': `serial,secret,encoding,digits\nB-1,${BAD_B32},,\nG-5,${GOOD},base32,5\nK-1,${SHORT},base32,\nTWICE-1,${BAD_B32},,\n`,
    'entra.csv': `upn,serial number,secret key,time interval,manufacturer,model\ne-1@contoso.com,E-1,,30,Contoso,T1\nt@contoso.com,TWICE-1,${GOOD},30,Contoso,T1\n`,
    'oath.csv': 'O-1, 0g0g0g0g, totp, 6, 30\n',
    'badmac.pskc': readFileSync(seedsFixture('bad-mac.pskc'), 'utf8'),
    'd5.pskc': pskc('D-5', '5'),
  };
  const tokens = Object.entries(files).map(([name, content]) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  });
  return readExport({ source, tokens, seeds: { pskcKey: TEST_PSK, pskcMac: 'skip' } });
}

describe('seed-missing for a serial whose record a seed reader left out', () => {
  it('names the file, the line and the reader\'s reason, never "in none of the seed files"', async () => {
    const bundle = await exportWithSkippedRecords();
    const missing = new Map(bundle.problems.items.filter((p) => p.code === 'seed-missing').map((p) => [p.line, p.message]));
    const at = (file: string, line: number) => `token serial \\S+ is in ${join(dir, file).replace(/[.\\]/g, '\\$&')} line ${line}, but its seed was not taken: `;
    expect([...missing.keys()]).toEqual([2, 3, 5, 6, 7, 8, 10]);
    expect(missing.get(2)).toMatch(new RegExp(`^b-1@contoso.com: ${at('generic.csv', 2)}the secret of token B-1 is not valid Base32 .*; the row is skipped \\[secret-invalid\\]$`));
    expect(missing.get(3)).toMatch(new RegExp(`^g-5@contoso.com: ${at('generic.csv', 3)}digits must be a whole number from 6 to 10, not 5 \\(RFC 4226 asks for 6 or more\\); the row of token G-5 is skipped \\[value-invalid\\]$`));
    expect(missing.get(5)).toMatch(new RegExp(`^e-1@contoso.com: ${at('entra.csv', 2)}the secret key of token E-1 is empty or not valid Base32 .*\\[secret-invalid\\]$`));
    expect(missing.get(6)).toMatch(new RegExp(`^o-1@contoso.com: ${at('oath.csv', 1)}the key of token O-1 is not valid hex .*\\[secret-invalid\\]$`));
    expect(missing.get(7)).toMatch(new RegExp(`^t-2@contoso.com: ${at('badmac.pskc', 64)}Secret of token T-2: its ValueMAC does not match .*; the key is left out \\(--pskc-mac skip\\) \\[pskc-mac\\]$`));
    expect(missing.get(8)).toMatch(new RegExp(`^d-5@contoso.com: ${at('d5.pskc', 6)}the ResponseFormat Length of token D-5 must be a whole number from 6 to 10, not 5 .*; the key is left out \\[value-invalid\\]$`));
    // A serial no seed file holds is still said to be in none of them.
    expect(missing.get(10)).toBe('none-1@contoso.com: token serial NONE-1 is in none of the seed files given');
    // A record kept with a warning (a short seed), and a serial skipped in one file but read from another, are the users' tokens.
    expect(bundle.tokens.filter((t) => t.user !== undefined).map((t) => [t.seed.serial, t.user])).toEqual([
      ['K-1', 'k-1@contoso.com'],
      ['TWICE-1', 'twice-1@contoso.com'],
    ]);
    // The reason is the seed file's own problem, still listed there; no secret is ever in a message.
    const text = bundle.problems.items.map(formatProblem).join('\n');
    for (const form of [...secretForms(TEST_SECRETS.b), ...secretForms(TEST_SECRETS.a), BAD_B32, GOOD, SHORT]) expect(text).not.toContain(form);
  });

  it('the serial goes only with a problem that left its record out, never with one of a record kept', async () => {
    const bundle = await exportWithSkippedRecords();
    expect(bundle.problems.items.filter((p) => p.serial !== undefined).map((p) => [p.code, p.serial])).toEqual([
      ['secret-invalid', 'B-1'],
      ['value-invalid', 'G-5'],
      ['secret-invalid', 'TWICE-1'],
      ['secret-invalid', 'E-1'],
      ['secret-invalid', 'O-1'],
      ['pskc-mac', 'T-2'],
      ['value-invalid', 'D-5'],
    ]);
    expect(bundle.problems.items.find((p) => p.code === 'secret-short')).toMatchObject({ message: expect.stringMatching(/token K-1/) });
    expect(bundle.problems.items.find((p) => p.code === 'secret-short')!.serial).toBeUndefined();
  });
});
