import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleSeedArgs } from '../../src/cli/demo-command.js';
import { runMain } from '../helpers/run-main.js';

describe('mfa-migrate validate', () => {
  it('reports the sample export with errors in JSON: every problem with file, line or path, field and code', async () => {
    const r = await runMain(['validate', '--source', 'fixtures/contoso-with-errors', '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ users: 7, devices: 2, tokens: [] });
    const codes = (list: { code: string }[]) => list.map((p) => p.code).sort();
    expect(codes(report.errors)).toEqual(
      [
        'duplicate-user',
        'phone-invalid',
        'phone-invalid',
        'phone-invalid',
        'secret-invalid',
        'seed-missing',
        'seed-missing',
        'settings-invalid',
        'settings-invalid',
        'settings-invalid',
        'value-invalid',
        'value-invalid',
        'value-invalid',
        'value-invalid',
      ].sort(),
    );
    expect(codes(report.warnings)).toEqual(['column-unknown', 'device-unknown-user', 'value-invalid']);
    expect(report.errors).toContainEqual({ file: 'users.csv', line: 4, field: 'username', code: 'duplicate-user', message: expect.stringContaining('line 2') });
    expect(report.errors).toContainEqual(expect.objectContaining({ file: 'settings.json', line: null, path: '$.userPortal.allowOneTimeBypas', code: 'settings-invalid' }));
    // Phone numbers are masked in messages.
    expect(r.stdout).not.toMatch(/5551234567|555-123-4567/);
  });

  it('prints a readable text report and exits 1 on errors', async () => {
    const r = await runMain(['validate', '--source', 'fixtures/contoso-with-errors']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('users.csv, line 4, field username:');
    expect(r.stdout).toMatch(/Not valid: 14 error\(s\), 3 warning\(s\)\./);
    expect(r.stdout).toContain('settings.json  not valid (the errors below say why)');
  });

  /** Found by a review: an export without settings.json (it is optional) read "not present or not valid". */
  it('says settings.json is absent, not "not present or not valid", when the export has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-nosettings-'));
    writeFileSync(join(dir, 'users.csv'), readFileSync('fixtures/contoso/users.csv', 'utf8').split('\n').slice(0, 1).join('\n') + '\n');
    const r = await runMain(['validate', '--source', dir]);
    expect(r.stdout).toContain('settings.json  absent (optional)');
    cpSync('fixtures/contoso/settings.json', join(dir, 'settings.json'));
    expect((await runMain(['validate', '--source', dir])).stdout).toContain('settings.json  read');
  });

  it('exits 0 when there are only warnings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-'));
    cpSync('fixtures/contoso', dir, { recursive: true });
    // Keep users without tokens only, so that no seed file is needed.
    const lines = readFileSync(join(dir, 'users.csv'), 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'users.csv'), `${lines.filter((l, i) => i === 0 || !/,\d{8},[^,]*$/.test(l)).join('\n')}\n`);
    const r = await runMain(['validate', '--source', dir, '--format', 'json']);
    const report = JSON.parse(r.stdout);
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((w: { code: string }) => w.code)).toEqual(['device-limit']);
    expect(r.code).toBe(0);
  });

  it('fails clearly when the source folder or users.csv is missing', async () => {
    const missing = await runMain(['validate', '--source', '/nonexistent/export']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nonexistent\/export: the source folder does not exist/);
    // With --format json the answer is JSON still: the report of that one error (a black-box test got the stderr line alone).
    const json = await runMain(['validate', '--source', '/nonexistent/export', '--format', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ source: '/nonexistent/export', users: 0, errors: [{ file: '/nonexistent/export', code: 'file-missing', message: 'the source folder does not exist or is not a folder' }] });
    const empty = mkdtempSync(join(tmpdir(), 'validate-empty-'));
    const r = await runMain(['validate', '--source', empty, '--format', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).errors).toEqual([expect.objectContaining({ file: 'users.csv', code: 'file-missing' })]);
  });

  it('answers in JSON with --format json when a key or seed file is refused, the file and code named (a black-box test got the stderr line alone)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-keys-'));
    const notHex = join(dir, 'key.hex');
    writeFileSync(notHex, 'zz-not-hex\n', { mode: 0o600 });
    const json = await runMain(['validate', '--source', 'fixtures/contoso', '--pskc-key-file', notHex, '--format', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ source: 'fixtures/contoso', users: 0, errors: [{ file: notHex, line: null, field: null, code: 'pskc-credentials', message: expect.stringContaining('not hex digits') }] });
    const text = await runMain(['validate', '--source', 'fixtures/contoso', '--pskc-key-file', notHex]);
    expect([text.code, text.stdout]).toEqual([1, '']);
    expect(text.stderr).toContain(`the PSKC key file ${notHex} holds characters that are not hex digits`);

    const open = join(dir, 'open.hex');
    writeFileSync(open, '00112233445566778899aabbccddeeff\n', { mode: 0o644 });
    const strict = JSON.parse((await runMain(['validate', '--source', 'fixtures/contoso', '--pskc-key-file', open, '--strict-permissions', '--format', 'json'])).stdout);
    expect(strict.errors).toEqual([expect.objectContaining({ file: open, code: 'file-unsafe', message: expect.stringContaining('has mode 0644') })]);
    const seeds = join(dir, 'seeds.csv');
    writeFileSync(seeds, 'serial,secret\n', { mode: 0o644 });
    const seedFile = JSON.parse((await runMain(['validate', '--source', 'fixtures/contoso', '--tokens', seeds, '--strict-permissions', '--format', 'json'])).stdout);
    expect(seedFile.errors).toEqual([expect.objectContaining({ file: seeds, code: 'file-unsafe' })]);
  });

  it('has --help with examples', async () => {
    const r = await runMain(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('--pskc-mac');
    expect(r.stdout).toContain('allow-unprotected');
    for (const format of ['PSKC drafts', 'OATH CSV', 'key wrap']) expect(r.stdout).toContain(format);
  });
});

describe('mfa-migrate validate on a terminal', () => {
  it('prints cells that hold escape sequences or reordering marks as text, while the JSON report keeps them as they are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-escapes-'));
    writeFileSync(join(dir, 'users.csv'), 'username,default_method\nalice@contoso.com,\u001b[2J\u001b[31mcleared\nbob\u0007@contoso.com,phone\nmal\u202elory@contoso.com,sms\n');
    const text = await runMain(['validate', '--source', dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(text.stdout).toContain('"\\u001b[2J\\u001b[31mcleared"');
    expect(text.stdout).toContain('bob\\u0007@contoso.com');
    expect(text.stdout).toContain('mal\\u202elory@contoso.com');
    const json = JSON.parse((await runMain(['validate', '--source', dir, '--format', 'json'])).stdout) as { errors: { message: string }[] };
    expect(json.errors.some((e) => e.message.includes('\u001b[2J'))).toBe(true);
  });
});

describe('mfa-migrate validate: follow-on warnings', () => {
  /** Found by a black-box test: every seed of the sample (13) was also "not assigned ... not in users.csv". */
  it('users.csv unreadable: its error alone, no seed-unassigned warning for every seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-no-users-'));
    cpSync('fixtures/contoso', dir, { recursive: true });
    rmSync(join(dir, 'users.csv'));
    const r = await runMain(['validate', '--source', dir, ...sampleSeedArgs(dir), '--format', 'json']);
    const report = JSON.parse(r.stdout);
    expect(r.code).toBe(1);
    expect(report.tokens.length).toBeGreaterThan(10);
    expect(report.errors.map((p: { file: string; code: string }) => `${p.file} ${p.code}`)).toEqual(['users.csv file-missing']);
    expect(report.warnings.map((p: { code: string }) => p.code)).not.toContain('seed-unassigned');
    // users.csv read: a seed no user has is still said.
    writeFileSync(join(dir, 'users.csv'), 'username\nalice@contoso.com\n');
    const read = JSON.parse((await runMain(['validate', '--source', dir, ...sampleSeedArgs(dir), '--format', 'json'])).stdout);
    expect(read.warnings.filter((p: { code: string }) => p.code === 'seed-unassigned')).toHaveLength(read.tokens.length);
  });

  /** Found by a black-box test: the same --tokens file twice gave a seed-duplicate warning per token, each pointing at itself. */
  it('a seed file given twice, by one path or two, is read once with one warning naming --tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-seeds-twice-'));
    cpSync('fixtures/contoso', dir, { recursive: true });
    const seeds = join(dir, 'tokens', 'seeds.pskc');
    symlinkSync(seeds, join(dir, 'link.pskc'));
    const once = JSON.parse((await runMain(['validate', '--source', dir, '--tokens', seeds, '--format', 'json'])).stdout);
    for (const [args, message] of [
      [['--tokens', seeds, '--tokens', seeds], '--tokens gives this seed file twice: it is read once'],
      [['--tokens', seeds, '--tokens', join(dir, 'tokens', '..', 'tokens', 'seeds.pskc'), '--tokens', join(dir, 'link.pskc')], '--tokens gives this seed file 3 times (as tokens/seeds.pskc, link.pskc): it is read once'],
    ] as const) {
      const r = await runMain(['validate', '--source', dir, ...args, '--format', 'json']);
      const report = JSON.parse(r.stdout);
      expect(report.tokens).toEqual(once.tokens);
      expect(report.warnings.filter((p: { code: string }) => p.code === 'seed-duplicate' || p.code === 'seed-file-repeated')).toEqual([{ file: 'tokens/seeds.pskc', line: null, field: null, code: 'seed-file-repeated', message }]);
      expect(report.errors).toEqual(once.errors);
    }
    // A copy is another file: each of its seeds is still a duplicate of the first file's.
    cpSync(seeds, join(dir, 'copy.pskc'));
    const copy = JSON.parse((await runMain(['validate', '--source', dir, '--tokens', seeds, '--tokens', join(dir, 'copy.pskc'), '--format', 'json'])).stdout);
    expect(copy.warnings.filter((p: { code: string; file: string }) => p.code === 'seed-duplicate' && p.file === 'copy.pskc')).toHaveLength(once.tokens.length);
  });
});
