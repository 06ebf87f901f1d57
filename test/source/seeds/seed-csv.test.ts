import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codes, read, secretForms, seedsFixture, tempDir } from './seed-test-helpers.js';
import type { OathSeed } from '../../../src/model/export-data.js';

/** Everything about a seed except where it came from. */
/** A seed as read, less where it was read from (the file, and the columns as its header spells them). */
function essence(s: OathSeed): unknown {
  return { ...s, secret: s.secret.reveal().toString('hex'), source: undefined, serialField: undefined, secretField: undefined };
}

describe('generic seed CSV', () => {
  const tmp = tempDir();

  it('reads serial/secret with optional columns and infers the hash from hex seed length', async () => {
    const { seeds, problems } = await read(seedsFixture('generic.csv'));
    expect(problems).toEqual([]);
    const got = seeds.map((s) => [s.serial, s.type, s.algorithm, s.digits, s.period, s.counter, s.secret.length, s.line]);
    expect(got).toEqual([
      ['G-1', 'totp', 'sha1', 6, 30, null, 20, 2],
      ['G-2', 'totp', 'sha256', 6, 30, null, 32, 3], // 32-byte hex seed, no algorithm -> sha256
      ['G-3', 'totp', 'sha512', 6, 30, null, 64, 4], // 64-byte hex seed, all defaults -> sha512
      ['G-4', 'totp', 'sha1', 6, 30, null, 32, 5], // explicit sha1 wins over the 32-byte length
      ['G-5', 'hotp', 'sha1', 8, null, 99n, 20, 6], // HOTP keeps its counter
      ['G-6', 'totp', 'sha256', 6, 60, null, 20, 7], // grouped lower-case Base32; explicit HMAC-SHA256
    ]);
    expect(seeds[0]).toMatchObject({ manufacturer: 'Test', model: 'M1', source: seedsFixture('generic.csv') });
  });

  it('BOM + CRLF + ";" + other header spellings read the same as the plain file', async () => {
    const plain = await read(seedsFixture('generic.csv'));
    const odd = await read(seedsFixture('generic-bom-crlf-semicolon.csv'));
    expect(odd.problems).toEqual([]);
    expect(odd.seeds.map(essence)).toEqual(plain.seeds.map(essence));
  });

  it('line endings mixed in one file (CRLF header, LF rows, a CR-only line) read the same, lines counted right', async () => {
    const plain = await read(seedsFixture('generic.csv'));
    const lines = (await import('node:fs')).readFileSync(seedsFixture('generic.csv'), 'utf8').replace(/\r/g, '').split('\n').filter(Boolean);
    const mixed = await read(tmp.file('mixed.csv', lines.map((l, i) => l + ['\r\n', '\n', '\r'][i % 3]).join('')));
    expect(mixed.problems).toEqual([]);
    expect(mixed.seeds.map(essence)).toEqual(plain.seeds.map(essence));
    expect(mixed.seeds.map((x) => x.line)).toEqual(plain.seeds.map((x) => x.line));
  });

  it('a Base32 seed of 32 bytes is not length-inferred (the rule is for hex seeds)', async () => {
    const path = tmp.file('b32.csv', 'serial,secret\nX-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n');
    const { seeds } = await read(path);
    expect(seeds[0]).toMatchObject({ algorithm: 'sha1' });
    expect(seeds[0]!.secret.length).toBe(40);
  });

  it('an all-hex even-length seed without encoding column is read as hex; otherwise Base32', async () => {
    const path = tmp.file('guess.csv', 'serial;seed\nA;3132333435363738393031323334353637383930\nB;GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n');
    const { seeds, problems } = await read(path);
    // Both decode to the same seed, which two tokens must not share: proof that both decodings are right.
    expect(codes(problems)).toEqual(['error:secret-duplicate']);
    expect(seeds.map((s) => s.secret.reveal().toString('ascii'))).toEqual(['12345678901234567890', '12345678901234567890']);
  });

  it('bad cells: secret-invalid / value-invalid / csv-malformed with file, line and field; good rows still read', async () => {
    const path = seedsFixture('bad-values.csv');
    const { seeds, problems } = await read(path);
    expect(seeds.map((s) => s.serial)).toEqual(['B-11']);
    const summary = problems.map((p) => [p.code, p.line, p.field ?? null]);
    expect(summary).toEqual([
      ['secret-invalid', 2, 'secret'], // Base32 with 1 and 8
      ['secret-invalid', 3, 'secret'], // odd-length hex
      ['value-invalid', 4, 'digits'],
      ['value-invalid', 5, 'period'],
      ['value-invalid', 6, 'algorithm'],
      ['secret-invalid', 7, 'secret'], // empty
      ['value-invalid', 8, 'encoding'],
      ['value-invalid', 9, 'type'],
      ['csv-malformed', 10, null], // an extra cell
      ['value-invalid', 11, 'serial'],
    ]);
    expect(problems.every((p) => p.file === path && p.severity === 'error')).toBe(true);
  });

  it('never quotes a secret in a problem, even a malformed one', async () => {
    const { text } = await read(seedsFixture('bad-values.csv'));
    for (const s of ['JBSWY3DPEHPK3PXP18', 'ABCDEF0123456789ABCDEF012345678', 'GEZDGNBVGY3TQOJQ']) expect(text).not.toContain(s);
  });

  it('a headerless CSV other than the LinOTP/privacyIDEA OATH CSV is refused without echoing its first line', async () => {
    const { seeds, problems, text } = await read(tmp.file('headerless-other.csv', 'token01, 3132333435363738393031323334353637383930, event, 6\n'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:seed-format-unknown']);
    expect(text).not.toContain('3132333435');
    expect(text).not.toContain('token01');
  });

  it('unknown columns are warned about; a column given twice is refused', async () => {
    const extra = await read(tmp.file('extra.csv', 'serial,secret,colour\nX-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,blue\n'));
    expect(extra.seeds).toHaveLength(1);
    expect(extra.problems).toMatchObject([{ severity: 'warning', code: 'column-unknown', field: 'colour', line: 1 }]);
    // A seed where a column name belongs is named neither in the message nor in its location (a security review).
    const seedAsName = await read(tmp.file('seed-name.csv', 'serial,secret,MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U\nX-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,blue\n'));
    expect(seedAsName.problems).toMatchObject([{ code: 'column-unknown', field: 'a column name not shown' }]);
    expect(seedAsName.text).not.toContain('MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U');
    // Nor one whose letters read as a parameter's name (`...HMAC...`), which refuses the file as any such column does, by its position.
    const paramSeed = await read(tmp.file('seed-name2.csv', 'serial,secret,SHAGGZDFMZTWQ2LKNNWG23HMACXE43U\nX-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,blue\n'));
    expect(paramSeed.problems).toMatchObject([{ severity: 'error', code: 'column-unknown', field: 'a column name not shown', message: expect.stringMatching(/column 3 \(a value of 31 characters, not shown/) }]);
    expect(paramSeed.text).not.toContain('SHAGGZDFMZTWQ2LKNNWG23HMACXE43U');

    const twice = await read(tmp.file('twice.csv', 'serial,secret,seed\nX-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n'));
    expect(twice.seeds).toEqual([]);
    expect(codes(twice.problems)).toEqual(['error:csv-malformed']);
  });

  it('an unknown column named as an OATH parameter (period, digits, hash, counter, encoding) refuses the file: read without it, every token would get the default', async () => {
    const B32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const cases: Array<[string, string]> = [
      ['serial,secret,Time Step (s)', `X-1,${B32},60`],
      ['Serial,Seed,Interval (seconds)', `X-1,${B32},60`],
      ['serial;secret;OTP Digits', `X-1;${B32};8`],
      ['serial,secret,HMAC', `X-1,${B32},SHA256`],
      ['serial,secret,Algorithm (SHA1/SHA256)', `X-1,${B32},SHA256`],
      ['serial,secret,Event Counter', `X-1,${B32},12`],
      ['serial,secret,Seed Format', `X-1,${B32},base32`],
      ['upn,serial number,secret key,time interval,Code Length', `a@contoso.com,X-1,${B32},30,8`],
    ];
    for (const [header, row] of cases) {
      const { seeds, problems } = await read(tmp.file('param.csv', `${header}\n${row}\n`));
      expect(seeds, header).toEqual([]);
      expect(problems.map((p) => [p.severity, p.code, p.line]), header).toEqual([['error', 'column-unknown', 1]]);
      const name = header.split(/[,;]/).pop()!;
      expect(problems[0]!.field, header).toBe(name);
      expect(problems[0]!.message, header).toMatch(/looks like an OATH parameter.*nothing was read/);
    }
    // A name shown only by its position (long, and written as key material may be) is refused too: ignored, every token would get 30 s.
    const long = await read(tmp.file('long.csv', `serial,secret,time_step_seconds\nX-1,${B32},60\n`));
    expect(long.seeds).toEqual([]);
    expect(long.problems).toMatchObject([{ severity: 'error', code: 'column-unknown', field: 'a column name not shown', message: expect.stringMatching(/^.*column 3 \(a value of 17 characters, not shown.*looks like an OATH parameter \(the period\)/) }]);
    const { problems } = await read(tmp.file('step.csv', `serial,secret,Time Step (s)\nX-1,${B32},60\n`));
    expect(problems[0]!.message).toContain('rename it to one of period, interval, time interval, time step, step');
    // Other unknown columns stay a warning, the rows read.
    for (const other of ['Warranty Period', 'Seed Hash', 'Seed Length', 'Device Type', 'Order Number', 'Shared With', 'Digital Certificate']) {
      const { seeds, problems } = await read(tmp.file('other.csv', `serial,secret,${other}\nX-1,${B32},x\n`));
      expect(seeds, other).toHaveLength(1);
      expect(codes(problems), other).toEqual(['warning:column-unknown']);
    }
  });

  it('an unterminated quote refuses the file, naming the line its record starts on and the field, without quoting the cell', async () => {
    const path = tmp.file('quote.csv', 'serial,secret\nQ-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\nQ-2,"JBSWY3DPEHPK3PXPJBSWY3DP\n\nQ-3,X\n');
    const { seeds, problems, text } = await read(path);
    expect(seeds).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'csv-malformed', line: 3, field: 'secret', message: expect.stringMatching(/never closed.*the file is refused/) })]);
    expect(text).not.toContain('JBSWY3DP');
  });

  it.each([
    // A quote opened in the serial cell of line 3 closes in line 4 with text after it (csv-parse stops at line 4).
    ['a stray quote that closes a line later', 'upn,serial number,secret key,time interval\na@c.com,X1,MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U,30\nb@c.com,"X2,MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43V,30\nc@c.com,X"3,MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43W,30\n', 3, 'serial number'],
    // The quote is never closed (csv-parse stops at the end of the file).
    ['a quote never closed', 'upn,serial number,secret key,time interval\nl5@c.com,L5,MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U,30\nl3@c.com,L3,"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30\n', 3, 'secret key'],
    // CRLF, a blank line and a multi-line quoted cell before the bad record.
    ['CRLF and a multi-line cell before it', 'serial,secret,model\r\nM-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,"two\r\nlines"\r\n\r\nM-2,"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJR,x\r\n', 5, 'secret'],
    // The OATH CSV: comment lines count, and with no header the cell is named by its place (never by the first row).
    ['an OATH CSV with comments', '# tokens\ntok-1,3132333435363738393031323334353637383930,totp,6,30\n# more\n\ntok-2,"3132333435363738393031323334353637383931,totp,6,30\n', 5, 'key'],
  ])('%s: the whole file is refused at the line the bad record starts on, with its field', async (_kind, content, line, field) => {
    const { seeds, problems, text } = await read(tmp.file('bad-quote.csv', content));
    expect(seeds).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'csv-malformed', line, field, message: expect.stringMatching(/the file is refused/) })]);
    expect(text).not.toMatch(/MFRGGZ|GEZDGN|3132333435/);
  });

  it.each([
    ['an Entra upload CSV', 'upn,serial number,secret key,time interval,manufacturer,model\n', 'jos\xe9@contoso.com,E9,INQW4YLSPFJWKZLEIJ4XIZLTEMYDANBS,30,V,M\n'],
    ['a generic seed CSV', 'serial,secret,manufacturer\n', 'G-9,INQW4YLSPFJWKZLEIJ4XIZLTEMYDANBS,Soci\xe9t\xe9\n'],
    ['an OATH CSV', '', 'tok-9,3132333435363738393031323334353637383930,totp,6,30,Soci\xe9t\xe9\n'],
  ])('%s that is not UTF-8 (Windows-1252, say) is refused at its line, not read with its bytes replaced', async (_kind, header, row) => {
    const path = tmp.file('latin1.csv', Buffer.concat([Buffer.from(header), Buffer.from(row, 'latin1')]));
    const { seeds, problems } = await read(path);
    expect(seeds).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'file-unreadable', line: header ? 2 : 1, message: expect.stringMatching(/not UTF-8/) })]);
  });

  /** Found by a black-box test: a row whose quoted cell spans lines was named by its last line. */
  it.each([
    ['a generic CSV, LF', 'serial,secret,model\nS1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,"multi\nline\nmodel"\nS2,31323334,m\nS3,x1,m\n', [2], [['secret-short', 5], ['secret-invalid', 6]]],
    // csv-parse counts a CRLF inside quotes as two lines: every later row was one line off per CRLF.
    ['a generic CSV, CRLF in and after the cell', 'serial,secret,model\r\nS1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,"two\r\nlines"\r\n\r\nS2,31323334,m\r\nS3,x1,m', [2], [['secret-short', 5], ['secret-invalid', 6]]],
    ['an Entra upload CSV', 'upn,serial number,secret key,time interval,model\nalice@contoso.com,E1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,"a\r\nb"\nbob@contoso.com,E2,GEZDGNBVGY3TQOJQ,30,m\n', [2], [['secret-short', 4]]],
    // Comment and blank lines before a row that spans lines (a key written in two groups).
    ['an OATH CSV with comments', '# tokens\n\ntok-1, "3132333435363738393031323334353637383930\r\n3132", totp\n# more\ntok-2, 31323334, totp\n', [3], [['secret-short', 6]]],
  ])('%s: a row with a line break inside a quoted cell is at the line it starts on, and so are the rows after it', async (_kind, content, seedLines, problemLines) => {
    const { seeds, problems } = await read(tmp.file('multiline.csv', content));
    expect(seeds.map((x) => x.line).slice(0, seedLines.length)).toEqual(seedLines);
    expect(problems.map((p) => [p.code, p.line])).toEqual(problemLines);
  });

  it('a header with no rows is worth a warning', async () => {
    const { seeds, problems } = await read(tmp.file('header-only.csv', 'serial,secret\r\n\r\n'));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['warning:csv-malformed']);
  });

  it('a Base32 seed ending in bits past its last byte that are not zero is read with a secret-suspect warning, never the value (a cut or mistyped seed); hex and clean Base32 are not', async () => {
    // 20 bytes are 32 characters; cut to 31, the last one's 3 spare bits are rarely zero.
    const cut = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ';
    const { seeds, problems } = await read(tmp.file('cut.csv', `serial,secret,encoding\nS-1,${cut},base32\nS-2,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,base32\nS-3,3132333435363738393031323334353637383939,hex\n`));
    expect(seeds).toHaveLength(3);
    expect(problems).toMatchObject([{ severity: 'warning', code: 'secret-suspect', line: 2, field: 'secret', message: expect.stringMatching(/^the Base32 secret of token S-1 ends in bits past its last whole byte that are not zero/) }]);
    expect(JSON.stringify(problems)).not.toContain(cut);
  });

  it('short seeds are read with a secret-short warning', async () => {
    const { seeds, problems } = await read(tmp.file('short.csv', 'serial,secret,encoding\nS-1,31323334353637383930,hex\n'));
    expect(seeds).toHaveLength(1);
    expect(problems).toMatchObject([{ severity: 'warning', code: 'secret-short', line: 2, field: 'secret' }]);
  });
});

describe("python-pskc's pskc2csv output (a PSKC file decrypted to CSV)", () => {
  const tmp = tempDir();

  it('reads its default columns: the PSKC key algorithm as the type, response_length as the digits; a PIN key is left out with a warning', async () => {
    // pskc2csv tests/rfc6030/figure5.pskcxml, as python-pskc's own test shows it, and a TOTP key.
    const path = tmp.file('pskc2csv.csv',
      'serial,secret,algorithm,response_length,time_interval\r\n' +
        '987654321,3132333435363738393031323334353637383930,urn:ietf:params:xml:ns:keyprov:pskc:hotp,8,\r\n' +
        '987654321,31323334,urn:ietf:params:xml:ns:keyprov:pskc:pin,4,\r\n' +
        'T-1,3132333435363738393031323334353637383931,urn:ietf:params:xml:ns:keyprov:pskc:totp,6,60\r\n' +
        'T-2,3132333435363738393031323334353637383932,http://www.ietf.org/keyprov/pskc#totp,6,30\r\n');
    const { seeds, problems } = await read(path);
    expect(seeds.map((s) => [s.serial, s.type, s.algorithm, s.digits, s.period, s.counter, s.line])).toEqual([
      ['987654321', 'hotp', 'sha1', 8, null, 0n, 2],
      ['T-1', 'totp', 'sha1', 6, 60, null, 4],
      ['T-2', 'totp', 'sha1', 6, 30, null, 5],
    ]);
    expect(problems.map((p) => [p.severity, p.code, p.line, p.field])).toEqual([['warning', 'value-invalid', 3, 'algorithm']]);
    expect(problems[0]!.message).toMatch(/token 987654321 is not an HOTP or TOTP key .*pskc:pin.*left out/);
  });

  it('a type cell that disagrees with the PSKC key algorithm refuses the row', async () => {
    const { seeds, problems } = await read(tmp.file('both.csv', 'serial,secret,type,algorithm\nT-1,3132333435363738393031323334353637383931,totp,urn:ietf:params:xml:ns:keyprov:pskc:hotp\n'));
    expect(seeds).toEqual([]);
    expect(problems.map((p) => [p.severity, p.code, p.field])).toEqual([['error', 'value-invalid', 'type']]);
  });
});

describe("Entra's OATH upload CSV", () => {
  const tmp = tempDir();

  it('reads upn, serial, Base32 secret and interval as TOTP SHA-1 6 digits', async () => {
    const { seeds, problems } = await read(seedsFixture('entra.csv'));
    expect(problems).toEqual([]);
    expect(seeds.map((s) => [s.serial, s.user ?? null, s.type, s.algorithm, s.digits, s.period, s.manufacturer ?? null, s.model ?? null, s.line])).toEqual([
      ['E-1', 'alice@contoso.com', 'totp', 'sha1', 6, 30, 'Test', 'M1', 2],
      ['E-2', null, 'totp', 'sha1', 6, 60, null, null, 3],
    ]);
  });

  it('BOM + CRLF + ";" + header spellings read the same', async () => {
    const plain = await read(seedsFixture('entra.csv'));
    const odd = await read(seedsFixture('entra-bom-crlf-semicolon.csv'));
    expect(odd.problems).toEqual([]);
    expect(odd.seeds.map(essence)).toEqual(plain.seeds.map(essence));
  });

  it("accepts Entra's own sample row (non-canonical Base32 tail), with a secret-suspect warning: its last 2 bits are dropped", async () => {
    const path = tmp.file('sample.csv', 'upn,serial number,secret key,time interval,manufacturer,model\nHelga@contoso.com,1234567,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n');
    const { seeds, problems } = await read(path);
    expect(codes(problems)).toEqual(['warning:secret-suspect']);
    expect(seeds[0]).toMatchObject({ serial: '1234567', user: 'Helga@contoso.com', period: 60 });
    expect(seeds[0]!.secret.length).toBe(16);
  });

  it('bad Base32 and bad interval are reported with line and column name', async () => {
    const path = tmp.file('bad.csv', 'upn,serial number,secret key,time interval\na@contoso.com,1,NOT-BASE32-1890,30\nb@contoso.com,2,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,thirty\n');
    const { seeds, problems, text } = await read(path);
    expect(seeds).toEqual([]);
    expect(problems.map((p) => [p.code, p.line, p.field])).toEqual([
      ['secret-invalid', 2, 'secret key'],
      ['value-invalid', 3, 'time interval'],
    ]);
    expect(text).not.toContain('NOT-BASE32');
  });

  it('a hex secret key (Deepnet writes Entra\'s columns with hex or Base32 seeds) is refused with the way to read it: an encoding column', async () => {
    const { seeds, problems, text } = await read(tmp.file('hex.csv', 'upn,serial number,secret key,time interval\na@contoso.com,D-1,3132333435363738393031323334353637383930,30\n'));
    expect(seeds).toEqual([]);
    expect(problems.map((p) => [p.code, p.line, p.field])).toEqual([['secret-invalid', 2, 'secret key']]);
    expect(problems[0]!.message).toMatch(/reads as hex.*add an encoding column/);
    expect(text).not.toContain('3132333435');
    // Bad Base32 that is not hex either gets no such hint.
    const bad = await read(tmp.file('bad32.csv', 'upn,serial number,secret key,time interval\na@contoso.com,D-1,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX0,30\n'));
    expect(bad.problems[0]!.message).not.toMatch(/hex/);
  });

  it('a missing required column refuses the file', async () => {
    const path = tmp.file('no-interval.csv', 'upn,serial number,secret key\na@contoso.com,1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n');
    const { seeds, problems } = await read(path);
    expect(seeds).toEqual([]);
    expect(problems).toMatchObject([{ code: 'column-missing', line: 1 }]);
    expect(problems[0]!.message).toMatch(/time interval/);
  });

  it("a header of Entra's columns plus OATH parameters Entra's format lacks (digits, algorithm, type, encoding, counter) is read with them, as a generic seed CSV, not as 6-digit SHA-1 with them ignored", async () => {
    const path = tmp.file('entra-plus.csv',
      'upn,serial number,secret key,time interval,manufacturer,model,digits,algorithm\n' +
        'alice@contoso.com,E-8,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Token2,C302,8,SHA256\n' +
        ',E-6,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,60,Token2,C202,,\n');
    const { seeds, problems } = await read(path);
    expect(problems).toEqual([]);
    expect(seeds.map((s) => [s.serial, s.user ?? null, s.type, s.algorithm, s.digits, s.period, s.manufacturer ?? null, s.line])).toEqual([
      ['E-8', 'alice@contoso.com', 'totp', 'sha256', 8, 30, 'Token2', 2],
      ['E-6', null, 'totp', 'sha1', 6, 60, 'Token2', 3],
    ]);
    expect(seeds[0]!.secret.reveal().toString('ascii')).toBe('12345678901234567890');

    // An encoding column says how the secret key is written, as in a generic seed CSV.
    const hex = await read(tmp.file('entra-hex.csv', 'upn,serial number,secret key,time interval,encoding\nalice@contoso.com,E-H,3132333435363738393031323334353637383930,30,hex\n'));
    expect(hex.problems).toEqual([]);
    expect(hex.seeds[0]!.secret.reveal().toString('ascii')).toBe('12345678901234567890');
  });

  it("Entra's columns read as a generic seed CSV (a parameter added) still hold Base32: a secret key of only 2-7 and a-f (Entra's own sample) is not guessed to be hex", async () => {
    const secret = '2234567abcdef2234567abcdef';
    const plain = await read(tmp.file('entra-sample.csv', `upn,serial number,secret key,time interval\nHelga@contoso.com,1234567,${secret},30\n`));
    const plus = await read(tmp.file('entra-sample-digits.csv', `upn,serial number,secret key,time interval,digits\nHelga@contoso.com,1234567,${secret},30,8\n`));
    expect(plus.seeds.map((s) => [s.serial, s.digits, s.algorithm, s.secret.length])).toEqual([['1234567', 8, 'sha1', 16]]);
    expect(plus.seeds[0]!.secret.equals(plain.seeds[0]!.secret)).toBe(true);
    expect(codes(plus.problems)).toEqual(codes(plain.problems));
    // A generic file's secret column keeps the guess: the same text there is hex.
    const generic = await read(tmp.file('generic-hexlike.csv', `serial,secret key,digits\nG-1,${secret},8\n`));
    expect(generic.seeds[0]!.secret.length).toBe(13);
  });

  it('no seed field leaks the secret through JSON.stringify, inspect or template strings', async () => {
    const { seeds } = await read(seedsFixture('entra.csv'));
    for (const seed of seeds) {
      const forms = secretForms(seed.secret.reveal());
      const outputs = [JSON.stringify(seed), inspect(seed, { depth: 5 }), `${seed.secret}`, String(seed.secret)];
      for (const out of outputs) for (const form of forms) expect(out).not.toContain(form);
      expect(JSON.stringify(seed)).toContain(seed.fingerprint);
    }
  });
});

describe('generic seed CSV: hex grouped with colons (a black-box test)', () => {
  const tmp = tempDir();

  it('hex grouped with colons is read, with or without an encoding column', async () => {
    const hex = '6e:6f:c5:8b:68:2a:fc:38:95:de:5b:3d:aa:4c:e0:a8:c3:d4:41:8b';
    const { seeds, problems } = await read(tmp.file('colons.csv', `serial,secret,encoding\nC-1,${hex},hex\nC-2,${hex.replace('6e', '6f')},\n`));
    expect(problems).toEqual([]);
    expect(seeds.map((s) => s.secret.reveal().toString('hex'))).toEqual([hex.replace(/:/g, ''), hex.replace('6e', '6f').replace(/:/g, '')]);
  });
});

describe('seed CSV headers that are not recognised, and Excel\'s sep= line (a black-box test)', () => {
  const tmp = tempDir();
  const seed = 'I7UP2RC3HRCW74LCBRFD2K3JNFS5IZY2';

  it.each([
    ['Serial No,Hex Key,Digits', '"Serial No", "Hex Key", "Digits" but no secret column (named secret, secret key, seed, key, otp key or token seed;'],
    ['serial,seed (hex),otp length', '"serial", "seed (hex)", "otp length" but no secret column'],
    ['Serial Number,Secret (Base32),Period', '"Serial Number", "Secret (Base32)", "Period" but no secret column'],
    ['Token,Secret', '"Token", "Secret" but no serial column (named serial, serial number, serialno, sn, token serial or token serial number)'],
  ])('%s: the columns found and the one missing are named, at the header line', async (header, names) => {
    const { seeds, problems, text } = await read(tmp.file('header.csv', `\n${header}\nVT00092,${seed},6\n`));
    expect(seeds).toEqual([]);
    expect(codes(problems)).toEqual(['error:seed-format-unknown']);
    expect(problems[0]!.line).toBe(2);
    expect(problems[0]!.message).toContain(`not a recognised seed CSV: its header has the column(s) ${names}`);
    expect(text).not.toContain(seed);
  });

  it('a header-like first line with a seed among its names does not show it; a data row first gets the general message', async () => {
    const hidden = await read(tmp.file('hidden.csv', `serial,${seed}\nX,Y\n`));
    expect(hidden.problems[0]!.message).toContain('"serial", (a name not shown) but no secret column');
    expect(hidden.text).not.toContain(seed);
    const data = await read(tmp.file('data.csv', `VT00092,${seed},6\n`));
    expect(data.problems[0]!.message).toMatch(/^not a recognised seed file: expected PSKC XML/);
    // At the line that is neither header nor OATH CSV (a black-box test saw no line at all), never quoted.
    expect(data.problems[0]).toMatchObject({ line: 1 });
    expect(data.problems[0]!.field).toBeUndefined();
    expect(data.text).not.toContain('VT00092');
  });

  it('an Excel "sep=" first line names the delimiter, and rows are numbered from it', async () => {
    const { seeds, problems } = await read(tmp.file('sep.csv', `sep=;\r\nSerial;Secret;Model\r\nVT00112;${seed};A,B\r\nVT00113;GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ;x;extra\r\n`));
    expect(seeds.map((s) => [s.serial, s.model, s.line])).toEqual([['VT00112', 'A,B', 3]]);
    expect(problems.map((p) => [p.code, p.line])).toEqual([['csv-malformed', 4]]);
    const entra = await read(tmp.file('sep-entra.csv', `"sep=,"\nupn,serial number,secret key,time interval\na@contoso.com,E-1,${seed},30\n`));
    expect(entra.problems).toEqual([]);
    expect(entra.seeds.map((s) => [s.serial, s.line])).toEqual([['E-1', 3]]);
  });
});
