import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readExport } from '../../src/source/export-bundle.js';
import { readSeedFile } from '../../src/source/seeds/read-seed-files.js';
import { ProblemList } from '../../src/model/problem.js';

/**
 * Issue 17 item 14: a 700 MB CSV cell ended in "unexpected error" (a string past V8's length limit).
 * Rows and files are capped (csv-parse's max_record_size, a file size check), with a problem naming
 * the file and line; the caps are settable so these files stay small.
 */
describe('issue 17 item 14: CSV record and file size caps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-limits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** An export folder holding only users.csv. */
  function exportWith(name: string, usersCsv: string): string {
    const source = join(dir, name);
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'users.csv'), usersCsv);
    return source;
  }

  it('a users.csv row longer than maxRecordSize (default 1 MiB) is csv-malformed with its line, not an unexpected error', async () => {
    const source = exportWith('long-row', `username,first_name\nalice@contoso.com,Alice\nbob@contoso.com,${'x'.repeat(1_500_000)}\n`);
    const bundle = await readExport({ source, tokens: [], seeds: {} });
    const problem = bundle.problems.items.find((p) => p.file === 'users.csv')!;
    expect(problem).toMatchObject({ severity: 'error', code: 'csv-malformed', line: 3 });
    expect(problem.message).toMatch(/row is longer than the 1048576-character limit/);
    expect(problem.message).not.toContain('xxxx');
    const settable = await readExport({ source: exportWith('long-row-small', 'username,first_name\nalice@contoso.com,Alice\n'), tokens: [], seeds: {}, csvLimits: { maxRecordSize: 20 } });
    expect(settable.problems.items.map((p) => p.code)).toContain('csv-malformed');
  });

  it('a users.csv larger than maxFileBytes is not read (file-unreadable), and says why', async () => {
    const source = exportWith('big-file', `username\n${'someone@contoso.com\n'.repeat(10)}`);
    const bundle = await readExport({ source, tokens: [], seeds: {}, csvLimits: { maxFileBytes: 100 } });
    const problem = bundle.problems.items.find((p) => p.file === 'users.csv')!;
    expect(problem).toMatchObject({ severity: 'error', code: 'file-unreadable' });
    expect(problem.message).toMatch(/^the file is 209 bytes, more than the 100-byte limit for CSV files/);
    expect(bundle.users).toEqual([]);
  });

  it('a settings.json past 16 MiB is not read into memory (file-unreadable)', async () => {
    const source = exportWith('big-settings', 'username\nalice@contoso.com\n');
    writeFileSync(join(source, 'settings.json'), `{"x": "${'y'.repeat(17 * 1024 * 1024)}"}`);
    const bundle = await readExport({ source, tokens: [], seeds: {} });
    expect(bundle.problems.items.filter((p) => p.file === 'settings.json')).toMatchObject([{ code: 'file-unreadable', message: expect.stringMatching(/16777216-byte limit/) }]);
  });

  it('seed CSVs: a row past maxRecordSize is csv-malformed, a file past maxFileBytes is not read', async () => {
    const long = join(dir, 'long.csv');
    writeFileSync(long, `serial,secret\nA-1,${'A'.repeat(1_200_000)}\n`);
    const problems = new ProblemList();
    expect(await readSeedFile(long, {}, problems)).toEqual([]);
    expect(problems.items).toMatchObject([{ code: 'csv-malformed', line: 2 }]);
    expect(problems.items[0]!.message).toMatch(/longer than the 1048576-character limit/);
    expect(problems.items[0]!.message).not.toContain('AAAA');

    const small = join(dir, 'small.csv');
    writeFileSync(small, 'serial,secret\nA-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n');
    const capped = new ProblemList();
    expect(await readSeedFile(small, { csvLimits: { maxFileBytes: 20 } }, capped)).toEqual([]);
    expect(capped.items).toMatchObject([{ code: 'file-unreadable', message: expect.stringMatching(/20-byte limit/) }]);
    const fine = new ProblemList();
    expect(await readSeedFile(small, {}, fine)).toHaveLength(1);
  });
});
