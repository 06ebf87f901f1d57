import { describe, expect, it } from 'vitest';
import { OTHER_SECRET, RFC4226_SECRET } from '../../fixtures/make-vendor-seeds.js';
import { encodeBase32 } from '../../src/source/seeds/secret-encoding.js';
import { runMain } from '../helpers/run-main.js';
import { secretForms, tempDir } from '../source/seeds/seed-test-helpers.js';

/**
 * Found by a black-box test: a seed CSV with its columns in the other order printed the seed, in the
 * message of a row it refused or, when both cells parsed, as the token's serial (seed-unassigned,
 * tokens[].serial). Whatever the format, validate's output never holds the seed.
 */
describe('validate, seed CSVs whose serial and seed columns are swapped', () => {
  const tmp = tempDir();
  const hex = RFC4226_SECRET.toString('hex');
  const b32 = encodeBase32(RFC4226_SECRET);
  const files: Record<string, string> = {
    'oath.csv': `${hex}, S1, totp, 6, 30\n${OTHER_SECRET.toString('hex')}, ABCDEF12, totp, 6, 30\n`,
    'oath-v2.csv': `# version: 2\nalice, ldap, corp, ${hex}, S1, totp\nbob, ldap, corp, ${OTHER_SECRET.toString('hex')}, ABCDEF12, totp\n`,
    'generic.csv': `serial,secret\n${b32},S1\n${encodeBase32(OTHER_SECRET)},ABCDEFGH\n`,
    'generic-hex.csv': `serial;secret;model\n${hex};S1;c200\n${OTHER_SECRET.toString('hex')};ABCDEF12;c200\n`,
    'entra.csv': `upn,serial number,secret key,time interval\nalice@contoso.com,${b32},S1,30\nbob@contoso.com,${encodeBase32(OTHER_SECRET)},ABCDEFGH,30\n`,
  };
  const forms = [RFC4226_SECRET, OTHER_SECRET].flatMap((s) => [...secretForms(s), encodeBase32(s), encodeBase32(s).slice(0, 16)]);

  for (const [name, content] of Object.entries(files)) {
    it(`${name}: each row refused naming file, line and field; no seed in the text or JSON report`, async () => {
      const path = tmp.file(name, content);
      const text = await runMain(['validate', '--source', 'fixtures/contoso', '--tokens', path]);
      const json = await runMain(['validate', '--source', 'fixtures/contoso', '--tokens', path, '--format', 'json']);
      for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) for (const form of forms) expect(out).not.toContain(form);
      const report = JSON.parse(json.stdout) as { tokens: { serial: string }[]; errors: { file: string; line: number; field: string; message: string }[] };
      const refused = report.errors.filter((e) => e.file === path);
      expect(refused).toHaveLength(2);
      for (const e of refused) expect(e.message).toMatch(/^the serial( number)? looks like a secret \(\d+ (hex|Base32) characters, not shown\)/);
      expect(report.tokens).toEqual([]);
      expect(text.stdout).toMatch(new RegExp(`${name}, line \\d, field serial( number)?: the serial( number)? looks like a secret`));
    });
  }
});
