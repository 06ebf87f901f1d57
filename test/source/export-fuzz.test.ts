import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/model/problem.js';
import { readExport } from '../../src/source/export-bundle.js';

// Values admins' files really hold, and values no file should: every cell of every column gets them
// in random combinations. Reading must never throw for a cell: each problem is reported with its file
// and line, and the other rows are read.
const VALUES = [
  '', ' ', 'x', '0', '1', '-1', '999', '+', '00', '+999', '1e3', 'NaN', 'null', 'true', 'no', 'constructor', '__proto__', 'toString',
  'hasOwnProperty', 'Phone call', 'OTP + PIN', 'one-way', 'sha512', 'hotp', 'totp', 'base32', 'hex', '60', '10', '8',
  '4255550101', '(425) 555-0101 x12', '+44 20 7946 0958', '0044 20 7946 0958', '030 1234567', '#', 'ext.', 'x',
  'GB', 'ZZ', '001', '+1', '12345678901234567890', 'JBSWY3DPEHPK3PXP', 'JBSWY3DP=', '3132333435', 'zz', '😀', '\u2028',
  '"', '""', 'a,b', 'a;b', 'line\nbreak', '2026-01-01', 'not a date', 'user@contoso.com', 'USER@CONTOSO.COM',
];

const USERS_HEADER = 'username,first_name,last_name,email,enabled,user_group,phone_country_code,phone,phone_extension,backup_country_code,backup_phone,backup_extension,default_method,phone_call_mode,text_message_mode,text_message_direction,mobile_app_mode,oath_token_serial,language';
const DEVICES_HEADER = 'username,device_name,registered_at,device_token,oath_secret';
const GENERIC_HEADER = 'serial,secret,encoding,type,digits,period,algorithm,counter,manufacturer,model';
const ENTRA_HEADER = 'upn,serial number,secret key,time interval,manufacturer,model';

const csvCell = (v: string): string => (/[",;\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

describe('reading an export never fails on a cell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-fuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports problems with file and line for random cells in every column of every CSV', async () => {
    let seed = 5;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pick = () => VALUES[Math.floor(rnd() * VALUES.length)]!;
    const table = (header: string, rows: number, first?: (i: number) => string) =>
      `${header}\n${Array.from({ length: rows }, (_, i) =>
        header
          .split(',')
          .map((_, c) => csvCell(c === 0 && first ? first(i) : pick()))
          .join(','),
      ).join('\n')}\n`;
    let read = 0;
    for (let trial = 0; trial < 20; trial++) {
      const source = join(dir, `t${trial}`);
      const tokens = join(source, 'tokens');
      // Half the usernames valid, so that joins, devices and duplicates are exercised too.
      const user = (i: number) => (i % 2 ? `u${i % 7}@contoso.com` : pick());
      mkdirSync(tokens, { recursive: true });
      writeFileSync(join(source, 'users.csv'), table(USERS_HEADER, 60, user));
      writeFileSync(join(source, 'devices.csv'), table(DEVICES_HEADER, 30, user));
      writeFileSync(join(tokens, 'generic.csv'), table(GENERIC_HEADER, 30));
      writeFileSync(join(tokens, 'entra.csv'), table(ENTRA_HEADER, 30, user));
      let bundle;
      try {
        bundle = await readExport({ source, tokens: [join(tokens, 'generic.csv'), join(tokens, 'entra.csv')], seeds: {} });
      } catch (err) {
        // A whole file may be refused (a CSV it cannot parse), never with anything but a SourceError.
        expect(err, `trial ${trial}`).toBeInstanceOf(SourceError);
        continue;
      }
      read++;
      expect(bundle.users.length + bundle.problems.items.filter((p) => p.file === 'users.csv').length, `trial ${trial}`).toBeGreaterThan(0);
      for (const p of bundle.problems.items) {
        expect(p.file, JSON.stringify(p)).toBeTruthy();
        expect(p.message, JSON.stringify(p)).toBeTruthy();
        if (p.file === 'users.csv' && p.code !== 'column-unknown') expect(p.line, JSON.stringify(p)).toBeGreaterThan(0);
      }
    }
    // Most exports are read (a refused file is the exception, not the way out of the checks).
    expect(read).toBeGreaterThan(15);
  }, 60_000);

  it('reports problems with file and line for random values in every part of a PSKC KeyPackage', async () => {
    const SEED_CHECKS = new Set(['secret-duplicate', 'seed-duplicate', 'seed-unassigned', 'token-unsupported', 'token-user-mismatch']);
    let seed = 9;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const xml = (v: string) => v.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('"', '&quot;');
    const pick = () => xml(VALUES[Math.floor(rnd() * VALUES.length)]!);
    const maybe = (text: string) => (rnd() < 0.8 ? text : '');
    const ns = 'urn:ietf:params:xml:ns:keyprov:pskc';
    const packages = Array.from({ length: 200 }, () => {
      const algorithm = rnd() < 0.5 ? `${ns}:${pick()}` : rnd() < 0.5 ? `${ns}:totp` : `${ns}#hotp`;
      return `  <KeyPackage>
    <DeviceInfo>${maybe(`<Manufacturer>${pick()}</Manufacturer>`)}${maybe(`<SerialNo>${pick()}</SerialNo>`)}${maybe(`<Model>${pick()}</Model>`)}${maybe(`<UserId>${pick()}</UserId>`)}</DeviceInfo>
    <Key Id="${pick()}" Algorithm="${algorithm}">
      <AlgorithmParameters>${maybe(`<Suite>${pick()}</Suite>`)}${maybe(`<ResponseFormat Length="${pick()}" Encoding="${rnd() < 0.7 ? 'DECIMAL' : pick()}"/>`)}</AlgorithmParameters>
      <Data>${maybe(`<Secret><PlainValue>${rnd() < 0.6 ? 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=' : pick()}</PlainValue></Secret>`)}${maybe(`<Counter><PlainValue>${pick()}</PlainValue></Counter>`)}${maybe(`<Time><PlainValue>${pick()}</PlainValue></Time>`)}${maybe(`<TimeInterval><PlainValue>${pick()}</PlainValue></TimeInterval>`)}${maybe(`<TimeDrift><PlainValue>${pick()}</PlainValue></TimeDrift>`)}</Data>
    </Key>
  </KeyPackage>`;
    });
    const source = join(dir, 'pskc');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'users.csv'), 'username,oath_token_serial\nu@contoso.com,1\n');
    const file = join(source, 'fuzz.pskc');
    writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>\n<KeyContainer Version="1.0" xmlns="${ns}">\n${packages.join('\n')}\n</KeyContainer>\n`);
    const bundle = await readExport({ source, tokens: [file], seeds: {} });
    const fromFile = bundle.problems.items.filter((p) => p.file === 'fuzz.pskc');
    expect(fromFile.length).toBeGreaterThan(50);
    // Nearly every key has some bad value; each is reported where it is, and the file is read to its end.
    for (const p of fromFile) {
      expect(p.line, JSON.stringify(p)).toBeGreaterThan(2);
      // The checks on read seeds (duplicates across files, assignment, Entra's limits) name the line, not the element.
      if (!SEED_CHECKS.has(p.code)) expect(p.path ?? '', JSON.stringify(p)).toMatch(/^KeyPackage\[\d+\]/);
    }
    expect(Math.max(...fromFile.filter((p) => p.path !== undefined).map((p) => Number(/^KeyPackage\[(\d+)\]/.exec(p.path!)![1])))).toBeGreaterThan(190);
  }, 60_000);
});
