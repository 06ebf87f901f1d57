import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProblemList } from '../../src/model/problem.js';
import { readSettings } from '../../src/source/settings-reader.js';
import { settingsJsonSchema } from '../../src/source/settings-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'settings-'));
async function read(text: string) {
  const path = join(dir, 'settings.json');
  writeFileSync(path, text);
  const problems = new ProblemList();
  const settings = await readSettings(path, 'settings.json', problems);
  return { settings, problems: problems.items };
}

describe('readSettings', () => {
  it('reads the sample settings', async () => {
    const { settings, problems } = await read(readFileSync(new URL('../../fixtures/contoso/settings.json', import.meta.url), 'utf8'));
    expect(problems).toEqual([]);
    expect(settings?.userPortal?.oneTimeBypassSeconds).toBe(300);
    expect(settings?.company?.fraudAlert?.reportingCode).toBe(0);
  });

  it('accepts an empty object: every field is optional', async () => {
    expect(await read('{}')).toEqual({ settings: {}, problems: [] });
  });

  it('names the JSON path of an unknown field', async () => {
    const { settings, problems } = await read('{"userPortal":{"allowOneTimeBypas":true},"mobileApp":{"accountName":"X"}}');
    expect(settings).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ code: 'settings-invalid', path: '$.userPortal.allowOneTimeBypas', field: 'allowOneTimeBypas' })]);
  });

  it('names the JSON path of a wrong type or value', async () => {
    const { problems } = await read('{"company":{"lockout":{"failures":"five"}},"userPortal":{"allowMethodSelection":["phone_call","fax"]}}');
    expect(problems.map((p) => p.path).sort()).toEqual(['$.company.lockout.failures', '$.userPortal.allowMethodSelection[1]']);
  });

  it('checks trusted IPs as addresses and prefixes, not only their characters (a black-box test had "...." pass)', async () => {
    const { problems } = await read(JSON.stringify({ userPortal: { trustedIps: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1', '....', '10.0.0.256/24', '10.0.0.0/33', '::1/129', '10.0.0.0/8/8'] } }));
    expect(problems.map((p) => p.path)).toEqual([3, 4, 5, 6, 7].map((i) => `$.userPortal.trustedIps[${i}]`));
    expect(problems.every((p) => p.code === 'settings-invalid')).toBe(true);
  });

  it('gives the line of a JSON syntax error', async () => {
    const { problems } = await read('{\n  "company": {\n    "lockout": { "enabled": true, }\n  }\n}');
    expect(problems).toEqual([expect.objectContaining({ code: 'settings-invalid', line: 3 })]);
  });

  it('gives the line and column of a // comment where a value belongs (a black-box test: "Unexpected character" alone), and says JSON has none', async () => {
    const { problems } = await read('{\n  "company": {\n    "fraudAlert": { "reportingCode": // the default\n 0 } } }');
    expect(problems).toEqual([
      expect.objectContaining({ code: 'settings-invalid', line: 3, message: 'not valid JSON: Unexpected character (JSON has no comments: remove the // or /* */ text) (column 38)' }),
    ]);
  });

  it('refuses a key given twice, naming it, its path and both lines (a black-box test: the last value was taken in silence)', async () => {
    const { settings, problems } = await read('{\n  "company": {\n    "fraudAlert": {\n      "reportingCode": 0,\n      "reportingCode": 5\n    }\n  },\n  "userPortal": { "maxMobileAppDevices": 50 }\n}\n');
    expect(settings).toBeUndefined();
    expect(problems).toEqual([
      {
        severity: 'error',
        code: 'settings-invalid',
        file: 'settings.json',
        line: 5,
        path: '$.company.fraudAlert.reportingCode',
        field: 'reportingCode',
        message: '"reportingCode" is given twice in one object (here at column 7; first at line 4, column 7): JSON readers keep one of the two values without a word (the last, most of them); keep the one meant',
      },
      // The rest is checked in the same run.
      expect.objectContaining({ code: 'settings-invalid', path: '$.userPortal.maxMobileAppDevices' }),
    ]);
    // One key in two objects is no duplicate.
    expect((await read('{"company":{"lockout":{"enabled":true},"fraudAlert":{"enabled":true}}}')).problems).toEqual([]);
  });

  it("never quotes the file in a syntax error (V8 does: a caller ID or PIN), and says when it is UTF-16", async () => {
    const { problems } = await read('{ "company": { "phoneCall": { "callerId": \'+1 425 555 0100\' } } }');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).not.toMatch(/425/);
    const utf16 = await read(Buffer.from('{"company":{}}', 'utf16le').toString('latin1'));
    expect(utf16.problems[0]!.message).toMatch(/UTF-16: save it as UTF-8/);
  });

  it('publishes the same schema as docs/settings.schema.json', () => {
    const published = JSON.parse(readFileSync(new URL('../../docs/settings.schema.json', import.meta.url), 'utf8'));
    expect(published).toEqual(settingsJsonSchema());
  });
});
