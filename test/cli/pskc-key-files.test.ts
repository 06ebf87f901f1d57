import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { derived, writePskc } from '../../fixtures/pskc-writer.js';
import { readPlanSources } from '../../src/app/plan-check.js';
import { planKeyFields, planKeyFiles, type SavedPlan } from '../../src/plan/plan-file.js';
import { runMain } from '../helpers/run-main.js';

// A black-box test: one --pskc-key-file (and one --pskc-password-file) per run, where vendors send
// one transport key per shipment. Both are repeatable now; each file is decrypted with its own.
const dir = mkdtempSync(join(tmpdir(), 'pskc-key-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, 0o600);
  return path;
};
const KEY_A = derived('cli-a', 16);
const KEY_B = derived('cli-b', 32);
const shipment = (serial: string, key: Buffer, cipher: 'aes128-cbc' | 'aes256-cbc') =>
  writePskc({ keys: [{ serial, type: 'totp', secret: derived(`cli-secret-${serial}`, 20) }], encryption: { cipher, key, mac: { hash: 'sha256', key: derived(`cli-mac-${serial}`, 20) } } });
const source = join(dir, 'export');
const a = file('a.pskc', shipment('A-1', KEY_A, 'aes128-cbc'));
const b = file('b.pskc', shipment('B-1', KEY_B, 'aes256-cbc'));
const keyA = file('a.hex', `${KEY_A.toString('hex')}\n`);
const keyB = file('b.hex', `${KEY_B.toString('hex')}\n`);
const storeKey = Buffer.alloc(32, 9).toString('base64');
mkdirSync(source);
writeFileSync(join(source, 'users.csv'), 'username,oath_token_serial\nalice@contoso.com,A-1\nbob@contoso.com,B-1\n');

describe('--pskc-key-file and --pskc-password-file are repeatable', () => {
  it('validate reads two shipments, each with its own key; with one key the other file is refused by name', async () => {
    const r = await runMain(['validate', '--source', source, '--tokens', a, '--tokens', b, '--pskc-key-file', keyA, '--pskc-key-file', keyB, '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { tokens: { serial: string; user: string }[]; errors: unknown[] };
    expect(report.tokens.map((t) => [t.serial, t.user])).toEqual([
      ['A-1', 'alice@contoso.com'],
      ['B-1', 'bob@contoso.com'],
    ]);
    const one = await runMain(['validate', '--source', source, '--tokens', a, '--tokens', b, '--pskc-key-file', keyA, '--format', 'json']);
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout).errors).toContainEqual(expect.objectContaining({ file: b, code: 'pskc-decrypt', message: expect.stringMatching(/^the pre-shared key \(--pskc-key-file\) is 16 bytes but the file's cipher \(AES-256-CBC\) needs a 32-byte key/) }));
  });

  it('shim import takes every shipment and its key in one import; an import of one file with --force removes the other\'s tokens', async () => {
    const store = join(dir, 'shim.store');
    const env = { MFA_SHIM_KEY: storeKey };
    const both = await runMain(['shim', 'import', '--source', source, '--tokens', a, '--tokens', b, '--pskc-key-file', keyA, '--pskc-key-file', keyB, '--store', store, '--json'], { env });
    expect(both.stderr).toBe('');
    expect(both.code).toBe(0);
    expect(JSON.parse(both.stdout)).toMatchObject({ tokens: 2, added: 2, removed: [] });
    // What docs/shim.md warns of: an import names every seed file; one left out (forced past the missing seed) loses its tokens.
    const alone = await runMain(['shim', 'import', '--source', source, '--tokens', a, '--pskc-key-file', keyA, '--store', store, '--json', '--force'], { env });
    expect(alone.code).toBe(0);
    expect(JSON.parse(alone.stdout)).toMatchObject({ tokens: 1, kept: 1, removed: ['B-1'] });
  });

  it('the help says so', async () => {
    for (const command of [['validate'], ['plan'], ['apply'], ['shim', 'import']]) {
      const r = await runMain([...command, '--help']);
      expect(r.stdout.replace(/\s+/g, ' '), command.join(' ')).toMatch(/--pskc-key-file <file> .*repeatable, one per shipment/);
    }
  });
});

describe('a saved plan records every key and password file', () => {
  it('one as before (pskcKeyFile), several as a list (pskcKeyFiles); apply reads the seeds again with all of them', async () => {
    expect(planKeyFields(['/k/a.hex'], [])).toEqual({ pskcKeyFile: '/k/a.hex' });
    expect(planKeyFields(['/k/a.hex', '/k/b.hex'], ['/k/pw.txt'])).toEqual({ pskcKeyFiles: ['/k/a.hex', '/k/b.hex'], pskcPasswordFile: '/k/pw.txt' });
    expect(planKeyFields([], [])).toEqual({});
    expect(planKeyFiles({ pskcKeyFile: '/k/a.hex', pskcPasswordFile: '/k/pw.txt' })).toEqual({ keys: ['/k/a.hex'], passwords: ['/k/pw.txt'] });
    expect(planKeyFiles({ pskcKeyFiles: ['/k/a.hex', '/k/b.hex'] })).toEqual({ keys: ['/k/a.hex', '/k/b.hex'], passwords: [] });
    const plan = { header: { source: { dir: source, tokens: [a, b], ...planKeyFields([keyA, keyB], []), pskcMac: 'fail' } } } as unknown as SavedPlan;
    const bundle = await readPlanSources(plan);
    expect(bundle.seeds.map((s) => s.serial)).toEqual(['A-1', 'B-1']);
  });
});
