import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VENDOR_KEYS } from '../../fixtures/make-vendor-seeds.js';
import { readExport } from '../../src/source/export-bundle.js';
import { buildValidationReport, counterJson } from '../../src/source/validation-report.js';
import { FIXTURES } from './seeds/seed-test-helpers.js';
import { CHECK_DIGIT_PSKC } from '../helpers/check-digit-pskc.js';

describe("validate's JSON: HOTP counters past 2^53 - 1 are decimal strings", () => {
  const dir = mkdtempSync(join(tmpdir(), 'validation-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a number up to Number.MAX_SAFE_INTEGER, the exact decimal string above it', () => {
    expect(counterJson(null)).toBeNull();
    expect(counterJson(0n)).toBe(0);
    expect(counterJson(9007199254740991n)).toBe(9007199254740991);
    expect(counterJson(9007199254740992n)).toBe('9007199254740992');
    expect(counterJson(18446744073709551615n)).toBe('18446744073709551615');
  });

  it('in the report of an export, JSON.parse gives back the exact counters', async () => {
    const source = join(dir, 'export');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), 'username\nnobody@contoso.com\n');
    const bundle = await readExport({ source, tokens: [join(FIXTURES, 'seeds', 'formats', 'rfc6030-hotp-big-counters.pskc')], seeds: { pskcKey: VENDOR_KEYS.aes128 } });
    const report = JSON.parse(JSON.stringify(buildValidationReport(bundle))) as { tokens: { serial: string; counter: unknown }[] };
    expect(report.tokens.map((t) => [t.serial, t.counter])).toEqual([
      ['BIG-1', '9007199254740993'],
      ['BIG-2', '18446744073709551615'],
    ]);
  });
});

describe("validate: a token whose device appends a Luhn check digit", () => {
  const dir = mkdtempSync(join(tmpdir(), 'validation-check-digit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is shown as check_digit and reported as one Entra cannot take', async () => {
    const source = join(dir, 'export');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), 'username,oath_token_serial\ncarol@contoso.com,CD-1\n');
    const seeds = join(dir, 'cd.pskc');
    writeFileSync(seeds, CHECK_DIGIT_PSKC);
    const report = buildValidationReport(await readExport({ source, tokens: [seeds], seeds: {} }));
    expect(report.tokens.map((t) => [t.serial, t.digits, t.check_digit])).toEqual([['CD-1', 6, true]]);
    expect(report.warnings.filter((w) => w.code === 'token-unsupported').map((w) => w.message)).toEqual([
      'token CD-1: Entra cannot take this token: a Luhn check digit after each code (the device shows 7 digits; Entra takes the code alone)',
    ]);
  });
});

describe('the export folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-folder-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a devices.csv or settings.json that is a folder is refused as unreadable, not taken as absent (found by a black-box test)', async () => {
    const source = join(dir, 'export');
    mkdirSync(join(source, 'devices.csv'), { recursive: true });
    mkdirSync(join(source, 'settings.json'));
    writeFileSync(join(source, 'users.csv'), 'username\nnobody@contoso.com\n');
    const bundle = await readExport({ source, tokens: [], seeds: {} });
    expect(bundle.problems.items.filter((p) => p.code === 'file-unreadable').map((p) => p.file).sort()).toEqual(['devices.csv', 'settings.json']);
  });

  it('an export file named in other letter case (copied from a Windows server) is an error naming it, not left out in silence', async () => {
    const source = join(dir, 'cased');
    mkdirSync(source);
    writeFileSync(join(source, 'users.csv'), 'username\nnobody@contoso.com\n');
    writeFileSync(join(source, 'Devices.csv'), 'username,device_name\nnobody@contoso.com,Phone\n');
    writeFileSync(join(source, 'Settings.JSON'), '{}');
    const bundle = await readExport({ source, tokens: [], seeds: {} });
    expect(bundle.devices).toEqual([]);
    expect(bundle.problems.items.map((p) => [p.severity, p.code, p.file, p.message])).toEqual([
      ['error', 'file-missing', 'Devices.csv', 'Devices.csv is not read: export file names are read as written; rename it devices.csv'],
      ['error', 'file-missing', 'Settings.JSON', 'Settings.JSON is not read: export file names are read as written; rename it settings.json'],
    ]);
    // Beside the file of the right name, another spelling is no error: it is not what the export names.
    writeFileSync(join(source, 'devices.csv'), 'username,device_name\nnobody@contoso.com,Phone\n');
    const both = await readExport({ source, tokens: [], seeds: {} });
    expect(both.devices).toHaveLength(1);
    expect(both.problems.items.map((p) => p.file)).toEqual(['Settings.JSON']);
  });
});

describe('an export with no users', () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-empty-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is said (a black-box test read "Valid" and an empty plan for a users.csv of its header alone); one whose rows were refused says why already', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'users.csv'), 'username,phone_country_code,phone\n');
    const bundle = await readExport({ source: empty, tokens: [], seeds: {} });
    expect(bundle.problems.items).toEqual([{ severity: 'warning', code: 'export-empty', file: 'users.csv', line: 1, message: 'users.csv holds no users: nothing to migrate (an export cut short, or its header alone?)' }]);
    const refused = join(dir, 'refused');
    mkdirSync(refused);
    writeFileSync(join(refused, 'users.csv'), 'username,phone_country_code,phone\n,1,4255550101\n');
    expect((await readExport({ source: refused, tokens: [], seeds: {} })).problems.items.map((p) => p.code)).toEqual(['username-invalid']);
  });
});

describe('docs/export-format.md documents every field of the validate report', () => {
  const doc = readFileSync(new URL('../../docs/export-format.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## `validate --format json`'));

  it('top level, tokens[] and errors[] (path included), as the fixtures give them', async () => {
    const bundle = await readExport({ source: join(FIXTURES, 'contoso-with-errors'), tokens: [join(FIXTURES, 'contoso', 'tokens', 'seeds.pskc')], seeds: {} });
    const report = buildValidationReport(bundle);
    const fields = [
      ...Object.keys(report),
      ...Object.keys(report.tokens[0]!).map((k) => `tokens[].${k}`),
      ...Object.keys(report.errors.find((e) => e.path !== undefined)!).map((k) => `errors[].${k}`),
    ];
    expect(fields).toContain('errors[].path');
    // The names of each row's first cell: `tokens[].type`, `algorithm` is tokens[].type and tokens[].algorithm; `tokens[]` is tokens.
    const documented = new Set<string>();
    for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
      let list = '';
      for (const [, name] of row.split(' | ')[0]!.matchAll(/`([^`]+)`/g)) {
        if (name!.includes('[].')) list = name!.slice(0, name!.indexOf('[].') + 3);
        documented.add(name!.endsWith('[]') ? name!.slice(0, -2) : name!.includes('[].') ? name! : `${list}${name!}`);
      }
    }
    const undocumented = fields.filter((f) => !documented.has(f));
    expect(undocumented).toEqual([]);
  });
});
