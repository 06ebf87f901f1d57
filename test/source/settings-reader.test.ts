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
