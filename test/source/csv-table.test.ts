import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectDelimiter, forEachCsvRow, parseCsvTable, readCsvTable } from '../../src/source/csv-table.js';
import { SourceError } from '../../src/model/problem.js';

const sample = readFileSync(new URL('../../fixtures/contoso/users.csv', import.meta.url), 'utf8');

/** Re-encodes a CSV with `;` as delimiter, quoting cells that hold one. */
function toSemicolons(csv: string): string {
  return csv
    .split('\n')
    .map((line) =>
      line
        .split(',')
        .map((c) => (c.includes(';') ? `"${c}"` : c))
        .join(';'),
    )
    .join('\n');
}

describe('lines before the header (found by a black-box test: the file was refused as having no username column)', () => {
  it("skips PowerShell Export-Csv's #TYPE line and Excel's sep= line, taking the delimiter sep= names, lines counted from the file's top", async () => {
    const plain = await parseCsvTable(Buffer.from(sample), 'users.csv');
    const typed = await parseCsvTable(Buffer.from(`#TYPE System.Management.Automation.PSCustomObject\r\n${sample.replace(/\n/g, '\r\n')}`), 'users.csv');
    const sep = await parseCsvTable(Buffer.from(`\uFEFFsep=;\n${toSemicolons(sample)}`), 'users.csv');
    for (const t of [typed, sep]) {
      expect(t.header).toEqual(plain.header);
      expect(t.rows.map((r) => r.cells)).toEqual(plain.rows.map((r) => r.cells));
      expect(t.rows.map((r) => r.line)).toEqual(plain.rows.map((r) => r.line + 1));
    }
    expect(sep.delimiter).toBe(';');
    // A cell of a real header that happens to start so is not a preamble line.
    expect((await parseCsvTable(Buffer.from('#TYPE,username\nx,a@b.c\n'), 'users.csv')).header).toEqual(['#TYPE', 'username']);
  });
});

describe('line endings mixed in one file', () => {
  it('skips blank lines of any ending and counts lines across quoted cells broken by CR, LF or CRLF', async () => {
    const text = 'a,b\n\r\n1,"x\ry"\r\n\n2,"p\r\nq\nr"\r3,z\n';
    const t = await parseCsvTable(Buffer.from(text), 'users.csv');
    expect(t.rows.map((r) => [r.line, r.cells[0]])).toEqual([
      [3, '1'],
      [6, '2'],
      [9, '3'],
    ]);
  });
});

describe('parseCsvTable', async () => {
  const plain = await parseCsvTable(Buffer.from(sample), 'users.csv');

  it('reads header and rows with their line numbers', () => {
    expect(plain.header[0]).toBe('username');
    expect(plain.rows[0]).toMatchObject({ line: 2 });
    expect(plain.rows.length).toBe(sample.trim().split('\n').length - 1);
  });

  it.each([
    ['BOM', (s: string) => `\uFEFF${s}`],
    ['CRLF', (s: string) => s.replace(/\n/g, '\r\n')],
    ['semicolons', toSemicolons],
    ['BOM + CRLF + semicolons', (s: string) => `\uFEFF${toSemicolons(s).replace(/\n/g, '\r\n')}`],
    // Found by a black-box test: csv-parse took the first line's ending for the whole file and merged rows.
    ['CRLF header, LF rows', (s: string) => s.replace('\n', '\r\n')],
    ['LF header, CRLF rows', (s: string) => { const i = s.indexOf('\n') + 1; return s.slice(0, i) + s.slice(i).replace(/\n/g, '\r\n'); }],
    ['CR only', (s: string) => s.replace(/\n/g, '\r')],
    ['tab-delimited (Excel "Text (Tab delimited)")', (s: string) => s.replace(/,/g, '\t')],
    ['every line its own ending', (s: string) => s.split('\n').map((l, i) => l + ['\n', '\r\n', '\r'][i % 3]).join('').replace(/[\r\n]+$/, '\n')],
  ])('reads a %s file the same as the plain one', async (_name, transform) => {
    const t = await parseCsvTable(Buffer.from(transform(sample)), 'users.csv');
    expect(t.header).toEqual(plain.header);
    expect(t.rows).toEqual(plain.rows);
  });

  it('gives a multi-line quoted record the line it starts on, skipping blank lines', async () => {
    const lf = 'a,b\n1,"x\ny"\n\n2,z\n3,"p\nq"\n4,w\n';
    expect((await parseCsvTable(Buffer.from(lf), 'f.csv')).rows.map((r) => r.line)).toEqual([2, 5, 6, 8]);
    const crlf = lf.replace(/\n/g, '\r\n');
    expect((await parseCsvTable(Buffer.from(crlf), 'f.csv')).rows.map((r) => r.line)).toEqual([2, 5, 6, 8]);
  });

  it('detects the delimiter from the header line only, ignoring quoted ones', () => {
    expect(detectDelimiter('a;b;c\n1,2,3')).toBe(';');
    expect(detectDelimiter('"a;b",c\n')).toBe(',');
    expect(detectDelimiter('a\tb\tc\n1,2,3')).toBe('\t');
  });

  it('refuses an empty file and unbalanced quotes with the file and line', async () => {
    await expect(parseCsvTable(Buffer.from(''), 'users.csv')).rejects.toThrow(SourceError);
    await expect(parseCsvTable(Buffer.from('a,b\n1,"open\n2,3\n'), 'users.csv')).rejects.toMatchObject({
      problem: { code: 'csv-malformed', file: 'users.csv' },
    });
  });

  /** Found by a black-box test: a stray `"` was an unexpected error with a stack trace, quoting the cell (a seed). */
  it('refuses a stray or misplaced quote as csv-malformed, naming the line the record starts on and its column, never the cell', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['username,device_name,oath_secret\nalice@contoso.com,Phone,JBSWY3DPEH"PK3PXP\n', 2, 'oath_secret', /a `"` inside a cell that does not start with one/],
      ['username,device_name,oath_secret\nalice@contoso.com,Phone,"JBSWY3DP"EHPK3PXP\n', 2, 'oath_secret', /text right after a quoted cell's closing `"`/],
      ['username,device_name,oath_secret\nbob@contoso.com,Phone,X\n\nalice@contoso.com,"Phone,JBSWY3DPEHPK3PXP\n1,2,3\n4,5,6\n', 4, 'device_name', /a quoted cell that starts on this line is never closed/],
    ];
    for (const [text, line, field, message] of cases) {
      const err = (await parseCsvTable(Buffer.from(text), 'devices.csv').catch((e: unknown) => e)) as SourceError;
      expect(err, text).toBeInstanceOf(SourceError);
      expect(err.problem, text).toMatchObject({ severity: 'error', code: 'csv-malformed', file: 'devices.csv', line, field, message: expect.stringMatching(message) });
      expect(JSON.stringify(err.problem), text).not.toMatch(/JBSWY|EHPK|PK3PXP|"E"/);
    }
  });

  it('refuses UTF-16 text, with or without its byte-order mark, saying so (a black-box test got column errors full of NULs)', async () => {
    const text = 'username,phone\nalice@contoso.com,4255550101\n';
    for (const buf of [Buffer.from(text, 'utf16le'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), Buffer.from(text, 'utf16le').swap16()]) {
      await expect(parseCsvTable(buf, 'users.csv')).rejects.toMatchObject({ problem: { code: 'file-unreadable', message: expect.stringMatching(/UTF-16 text, not UTF-8/) } });
    }
    // Binary is not taken for UTF-16.
    const { looksLikeUtf16 } = await import('../../src/io/utf16.js');
    expect(looksLikeUtf16(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0xcb]))).toBe(false);
    expect(looksLikeUtf16(Buffer.from(text))).toBe(false);
  });

  it('refuses a file that is not UTF-8, naming the line', async () => {
    const latin1 = Buffer.from('username,first_name\nalice@contoso.com,Alice\nj\xfcrgen@contoso.com,J\xfcrgen\n', 'latin1');
    await expect(parseCsvTable(latin1, 'users.csv')).rejects.toMatchObject({ problem: { code: 'file-unreadable', line: 3, message: expect.stringMatching(/not UTF-8/) } });
  });

  it('reports how many bytes it has read, up to the whole file (validate shows it for a large export)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-table-'));
    const path = join(dir, 'users.csv');
    const rows = Array.from({ length: 40_000 }, (_, i) => `user${i}@contoso.com,First${i},1,42555${String(i).padStart(5, '0')}`);
    writeFileSync(path, `username,first_name,phone_country_code,phone\n${rows.join('\n')}\n`);
    const seen: [number, number][] = [];
    let n = 0;
    await forEachCsvRow(path, 'users.csv', { header: () => undefined, row: () => void n++ }, undefined, (read, total) => seen.push([read, total]));
    const size = statSync(path).size;
    expect(n).toBe(40_000);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every(([, total]) => total === size)).toBe(true);
    expect(seen.map(([read]) => read)).toEqual([...seen.map(([read]) => read)].sort((a, b) => a - b));
    expect(seen.at(-1)![0]).toBe(size);
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes on a row reader's own fault as it is, not as a malformed file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-table-'));
    const path = join(dir, 'users.csv');
    writeFileSync(path, 'a,b\n1,2\n');
    const fault = new TypeError('a bug in a reader');
    await expect(forEachCsvRow(path, 'users.csv', { header: () => undefined, row: () => { throw fault; } })).rejects.toBe(fault);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a missing file as file-missing', async () => {
    await expect(readCsvTable('/nonexistent/users.csv', 'users.csv')).rejects.toMatchObject({ problem: { code: 'file-missing', file: 'users.csv' } });
  });
});

describe('forEachCsvRow on files of several read chunks (1 MiB each)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'csv-chunks-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  /** 30,000 plain rows (about 1.3 MB: past the first chunk), then `tail`. */
  const bigFile = (name: string, tail: Buffer): string => {
    const rows = Array.from({ length: 30_000 }, (_, i) => `user${i}@contoso.com,First${i},Last${i},4255550${String(i % 1000).padStart(3, '0')}`);
    const path = join(tmp, name);
    writeFileSync(path, Buffer.concat([Buffer.from(`username,first,last,phone\n${rows.join('\n')}\n`), tail]));
    return path;
  };

  it('counts lines right when the first quoted, multi-line cell comes after the first chunk', async () => {
    const path = bigFile('quoted-late.csv', Buffer.from('late@contoso.com,"two\nlines",Last,1\nafter@contoso.com,A,B,2\n'));
    const table = await readCsvTable(path, 'users.csv');
    const late = table.rows.find((r) => r.cells[0] === 'late@contoso.com')!;
    const after = table.rows.find((r) => r.cells[0] === 'after@contoso.com')!;
    expect(late.line).toBe(30_002);
    expect(late.cells[1]).toBe('two\nlines');
    expect(after.line).toBe(30_004);
  });

  it('names the line of text that is not UTF-8 when it comes after the first chunk', async () => {
    const path = bigFile('latin1-late.csv', Buffer.concat([Buffer.from('ren'), Buffer.from([0xe9]), Buffer.from('@contoso.com,R,B,3\n')]));
    const err = await readCsvTable(path, 'users.csv').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).problem).toMatchObject({ code: 'file-unreadable', line: 30_002 });
  });

  it('refuses a literal U+FFFD (the mark of an earlier bad conversion) with its line', async () => {
    const path = bigFile('fffd.csv', Buffer.from('bad\uFFFD@contoso.com,R,B,3\n'));
    const err = await readCsvTable(path, 'users.csv').catch((e: unknown) => e);
    expect((err as SourceError).problem).toMatchObject({ code: 'file-unreadable', line: 30_002 });
  });
});
