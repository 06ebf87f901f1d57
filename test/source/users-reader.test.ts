import { describe, expect, it } from 'vitest';
import { ProblemList } from '../../src/model/problem.js';
import { parseCsvTable } from '../../src/source/csv-table.js';
import { readTable } from '../../src/source/columns.js';
import { usersReader } from '../../src/source/users-reader.js';

async function read(csv: string) {
  const problems = new ProblemList();
  const users = await readTable(await parseCsvTable(Buffer.from(csv), 'users.csv'), usersReader(problems));
  return { users, problems: problems.items };
}

describe('readUsers', () => {
  it('matches headers case-insensitively, ignoring spaces, underscores and hyphens, with aliases', async () => {
    const { users, problems } = await read(
      'UPN,First Name,LAST-NAME,Primary Phone,Country Code,Default Method,OATH Token Serial\n' +
        'ivan@contoso.com,Ivan,Ivanov,4255550109,1,OATH token,123\n',
    );
    expect(problems).toEqual([]);
    expect(users).toEqual([
      {
        line: 2,
        username: 'ivan@contoso.com',
        firstName: 'Ivan',
        lastName: 'Ivanov',
        enabled: true,
        phone: { countryCode: '1', nationalNumber: '4255550109', entra: '+1 4255550109' },
        exportedPhones: { phone: { countryCode: '1', number: '4255550109' } },
        defaultMethod: 'oath_token',
        oathTokenSerial: '123',
      },
    ]);
  });

  it('needs only the username column', async () => {
    const { users, problems } = await read('username\nalice@contoso.com\n');
    expect(problems).toEqual([]);
    expect(users).toEqual([{ line: 2, username: 'alice@contoso.com', enabled: true }]);
  });

  it('reports a missing username column and reads no rows', async () => {
    const { users, problems } = await read('name,phone\nalice,4255550101\n');
    expect(users).toBeUndefined();
    expect(problems).toContainEqual(expect.objectContaining({ severity: 'error', code: 'column-missing', field: 'username', line: 1 }));
  });

  it.each([
    ['Phone call', 'phone_call'],
    ['phone_call', 'phone_call'],
    ['Text message', 'text_message'],
    ['TEXT-MESSAGE', 'text_message'],
    ['Mobile app', 'mobile_app'],
    ['OATH token', 'oath_token'],
  ])('reads default method %s as %s', async (raw, method) => {
    expect((await read(`username,default_method\na@b.com,${raw}\n`)).users?.[0]?.defaultMethod).toBe(method);
  });

  it.each([
    ['phone_call_mode', 'PIN', 'phoneCallMode', 'pin'],
    ['text_message_mode', 'OTP + PIN', 'textMessageMode', 'otp_pin'],
    ['text_message_mode', 'otp_pin', 'textMessageMode', 'otp_pin'],
    ['text_message_direction', 'Two-Way', 'textMessageDirection', 'two_way'],
    ['mobile_app_mode', 'Standard', 'mobileAppMode', 'standard'],
  ])('reads %s %s', async (column, raw, prop, value) => {
    expect((await read(`username,${column}\na@b.com,${raw}\n`)).users?.[0]).toMatchObject({ [prop]: value });
  });

  it.each([
    ['true', true],
    ['Yes', true],
    ['1', true],
    ['false', false],
    ['NO', false],
    ['0', false],
    ['', true],
  ])('reads enabled=%j as %s', async (raw, enabled) => {
    expect((await read(`username,enabled\na@b.com,${raw}\n`)).users?.[0]?.enabled).toBe(enabled);
  });

  it.each([
    ['default_method', 'carrier pigeon'],
    ['phone_call_mode', 'loud'],
    ['text_message_mode', 'pin'],
    ['text_message_direction', 'sideways'],
    ['mobile_app_mode', 'otp'],
    ['enabled', 'maybe'],
    // Names that an object lookup would find on Object.prototype.
    ['default_method', 'constructor'],
    ['phone_call_mode', 'toString'],
    ['text_message_direction', '__proto__'],
  ])('reports value-invalid for %s=%s with line and field, keeping the user', async (column, raw) => {
    const { users, problems } = await read(`username,${column}\na@b.com,${raw}\n`);
    expect(users).toHaveLength(1);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'value-invalid', file: 'users.csv', line: 2, field: column })]);
  });

  it.each(['maybe', 'locked', 'suspended'])('takes a user whose enabled value is unreadable (%s) as disabled: never migrated on a guess', async (raw) => {
    const { users, problems } = await read(`username,enabled\na@b.com,${raw}\n`);
    expect(users?.[0]).toMatchObject({ enabled: false, enabledUnreadable: true });
    expect(problems[0]?.message).toMatch(/taken as disabled/);
  });

  it.each([
    ['Phone call (PIN)', { defaultMethod: 'phone_call', phoneCallMode: 'pin' }],
    ['Text message (OTP + PIN)', { defaultMethod: 'text_message', textMessageMode: 'otp_pin' }],
    ['Mobile app (Standard)', { defaultMethod: 'mobile_app', mobileAppMode: 'standard' }],
    ['sms_two_way_otp_plus_pin', { defaultMethod: 'text_message', textMessageMode: 'otp_pin', textMessageDirection: 'two_way' }],
    ['phone_app_pin', { defaultMethod: 'mobile_app', mobileAppMode: 'pin' }],
    ['standard', { defaultMethod: 'phone_call', phoneCallMode: 'standard' }],
    ['PIN', { defaultMethod: 'phone_call', phoneCallMode: 'pin' }],
    ['Phone Call(PIN)', { defaultMethod: 'phone_call', phoneCallMode: 'pin' }],
    ['Text Message ( OTP+PIN )', { defaultMethod: 'text_message', textMessageMode: 'otp_pin' }],
  ])('reads the default method %j with its mode, as the migration utility and the SDK name them', async (raw, expected) => {
    const { users, problems } = await read(`username,default_method\na@b.com,${raw}\n`);
    expect(problems).toEqual([]);
    expect(users?.[0]).toMatchObject(expected);
  });

  it('a mode column still decides over the mode in the default method', async () => {
    const { users } = await read('username,default_method,phone_call_mode\na@b.com,Phone call (PIN),standard\n');
    expect(users?.[0]).toMatchObject({ defaultMethod: 'phone_call', phoneCallMode: 'standard' });
  });

  it("reads MFA Server's per-method language columns as the user's language (reported only), without an unknown-column warning", async () => {
    const { users, problems } = await read('username,Phone Call Language,Text Message Language,Mobile App Language,OATH Token Language\na@b.com,,de,fr,\nc@d.com,,,,\n');
    expect(problems).toEqual([]);
    expect(users?.map((u) => u.language)).toEqual(['de', undefined]);
  });

  it('reports duplicate usernames case-insensitively, naming the first line', async () => {
    const { users, problems } = await read('username\nAlice@Contoso.com\nbob@contoso.com\nalice@contoso.com\n');
    expect(users?.map((u) => u.username)).toEqual(['Alice@Contoso.com', 'bob@contoso.com']);
    expect(problems).toEqual([expect.objectContaining({ code: 'duplicate-user', line: 4, field: 'username', message: expect.stringContaining('line 2') })]);
  });

  it('reports an invalid phone on the user, masked, and keeps the valid backup', async () => {
    const { users, problems } = await read('username,phone_country_code,phone,backup_country_code,backup_phone\na@b.com,1,5555551234,1,2065550102\n');
    expect(users?.[0]?.phone).toBeUndefined();
    expect(users?.[0]?.backupPhone?.entra).toBe('+1 2065550102');
    expect(users?.[0]?.invalidPhones).toEqual([{ field: 'phone', reason: expect.stringContaining('not a valid number') }]);
    expect(problems).toEqual([expect.objectContaining({ code: 'phone-invalid', line: 2, field: 'phone' })]);
    expect(problems[0]!.message).not.toContain('5555551234');
  });

  /** A black-box test: `not-an-email` was read without a word, planned with --include-email, and refused by Graph at apply. */
  it('reports an email cell that is not an email address at its line and field, as an error, and keeps the user', async () => {
    const { users, problems } = await read('username,email\na@b.com,not-an-email\nb@b.com,b@contoso.com\nc@b.com,c@localhost\nd@b.com,"d x@contoso.com"\ne@b.com,e@@contoso.com\nf@b.com,\n');
    expect(users?.map((u) => u.username)).toEqual(['a@b.com', 'b@b.com', 'c@b.com', 'd@b.com', 'e@b.com', 'f@b.com']);
    // Kept as written: the mapping applies the same rule (EMAIL-INVALID).
    expect(users?.[0]?.email).toBe('not-an-email');
    expect(problems.map((p) => [p.severity, p.code, p.file, p.line, p.field])).toEqual([
      ['warning', 'email-invalid', 'users.csv', 2, 'email'],
      ['warning', 'email-invalid', 'users.csv', 4, 'email'],
      ['warning', 'email-invalid', 'users.csv', 5, 'email'],
      ['warning', 'email-invalid', 'users.csv', 6, 'email'],
    ]);
    expect(problems[0]!.message).toMatch(/^"not-an-email" is not an email address .*with plan --include-email it is not migrated$/);
  });

  it('never shows a seed that landed in the email column (columns out of order)', async () => {
    const { problems } = await read('username,email\na@b.com,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n');
    expect(problems).toEqual([expect.objectContaining({ code: 'email-invalid', line: 2, field: 'email' })]);
    expect(problems[0]!.message).not.toContain('JBSWY3DP');
  });

  it('quotes a very long repeated username cut short', async () => {
    const long = `${'u'.repeat(3000)}@contoso.com`;
    const { problems } = await read(`username\n${long}\n${long}\n`);
    expect(problems.filter((p) => p.code === 'duplicate-user').map((p) => p.message)).toEqual([expect.stringMatching(/^username u{96}\.\.\. \(3012 characters\) already appears on line 2 /)]);
  });

  /** A black-box test: a cell of 5,000 digits made a message of 5,000 characters. */
  it('quotes a very long phone cell cut short, masked, with its length', async () => {
    const { problems } = await read(`username,phone_country_code,phone\na@b.com,1,${'4'.repeat(4998)}12\n`);
    expect(problems).toEqual([expect.objectContaining({ code: 'phone-invalid', line: 2, field: 'phone' })]);
    expect(problems[0]!.message).toBe(`${'*'.repeat(96)}... (5000 characters): not a phone number`);
  });

  it('reports a country code no country has on its row, and reads every other row', async () => {
    const { users, problems } = await read('username,phone_country_code,phone\na@b.com,999,123456\nb@b.com,1,2065550102\nc@b.com,0,5551234\n');
    expect(users?.map((u) => u.username)).toEqual(['a@b.com', 'b@b.com', 'c@b.com']);
    expect(users?.[1]?.phone?.entra).toBe('+1 2065550102');
    expect(problems.map((p) => [p.code, p.line, p.field])).toEqual([
      ['phone-invalid', 2, 'phone'],
      ['phone-invalid', 4, 'phone'],
    ]);
  });

  it('reads extensions from their column and from inside the number', async () => {
    const { users } = await read('username,phone_country_code,phone,phone_extension,backup_country_code,backup_phone\na@b.com,1,4255550103,1234,1,425-555-0166 x560\n');
    expect(users?.[0]?.phone?.entra).toBe('+1 4255550103x1234');
    expect(users?.[0]?.backupPhone).toMatchObject({ extension: '560', entra: '+1 4255550166x560' });
    // The cells as written are kept beside the normalised number, for the report's MFA Server column.
    expect(users?.[0]?.exportedPhones).toEqual({ phone: { countryCode: '1', number: '4255550103', extension: '1234' }, backup_phone: { countryCode: '1', number: '425-555-0166 x560' } });
  });

  it('names the extension column when the extension cell is what is wrong, the phone column when the number carries it', async () => {
    const { problems } = await read('username,phone_country_code,phone,phone_extension,backup_country_code,backup_phone,backup_extension\na@b.com,1,4255550103,12a,1,4255550104,abc\nc@b.com,1,4255550105 x12345678901,,,,\n');
    expect(problems.filter((p) => p.code === 'phone-invalid').map((p) => [p.line, p.field, p.message.replace(/^.*: /, '')])).toEqual([
      [2, 'phone_extension', 'the extension must be 1 to 10 digits'],
      [2, 'backup_extension', 'the extension must be 1 to 10 digits'],
      [3, 'phone', 'the extension must be 1 to 10 digits'],
    ]);
  });

  it('warns, once per column, about a value under a column with no name; not about empty cells under one', async () => {
    const { problems } = await read('username,phone_country_code,phone,\na@b.com,1,4255550105,\nc@b.com,1,4255550106,junk\nd@b.com,1,4255550107,more\n');
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'column-unknown', line: 3, field: 'column 4', message: expect.stringMatching(/has no name in the header: its values are ignored/) })]);
  });

  it('reports short rows and warns about unknown columns', async () => {
    const { problems } = await read('username,favourite_colour,phone\na@b.com\n');
    expect(problems).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'column-unknown', field: 'favourite_colour' }));
    expect(problems).toContainEqual(expect.objectContaining({ severity: 'error', code: 'csv-malformed', line: 2 }));
  });

  it('skips lines of spaces and rows of empty cells, and takes trailing empty cells as no error; extra cells with text are one', async () => {
    const { users, problems } = await read('username,phone_country_code,phone\r\na@b.com,1,4255550105,,\r\n,,\r\n   \r\n\t,  ,\r\nc@b.com,1,4255550106,x\r\n');
    expect(users?.map((u) => u.username)).toEqual(['a@b.com', 'c@b.com']);
    expect(problems.map((p) => [p.code, p.line, p.message])).toEqual([['csv-malformed', 6, 'row has 4 cells but the header has 3']]);
  });

  it('masks a phone number and hides a seed-like value quoted from a column that holds neither (columns out of order)', async () => {
    const { problems } = await read('username,enabled,default_method\na@b.com,+44 20 7946 0958,text_message\nb@b.com,true,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n4255550101,true,\n');
    expect(problems.map((p) => [p.line, p.field, p.message])).toEqual([
      [2, 'enabled', '"+** ** **** **58" is not one of true/false/yes/no/1/0: the user is taken as disabled, and nothing is written for them'],
      [3, 'default_method', expect.stringMatching(/^a value that looks like a secret \(32 Base32 characters, not shown\) is not one of phone_call, /)],
      [4, 'username', 'username "********01" is not a user principal name (name@domain): plan matches it by the synced on-premises name (onPremisesSamAccountName; onPremisesUserPrincipalName for name@suffix) when exactly one tenant user has it, or, with --match-by upn, only by that exact UPN'],
    ]);
  });

  it('refuses a row whose username looks like a seed, never showing it; a date in a column meant for neither is shown as it is (a review)', async () => {
    const { users, problems } = await read('username,enabled\nJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,true\na@b.com,2025-13-01\nCONTOSO\\alice,true\n');
    expect(users?.map((u) => u.username)).toEqual(['a@b.com', 'CONTOSO\\alice']);
    expect(problems.map((p) => [p.line, p.field, p.message])).toEqual([
      [2, 'username', 'the username looks like a secret (32 Base32 characters, not shown): are the columns in the right order? The row is skipped'],
      [3, 'enabled', '"2025-13-01" is not one of true/false/yes/no/1/0: the user is taken as disabled, and nothing is written for them'],
      [4, 'username', expect.stringMatching(/^username "CONTOSO\\alice" is not a user principal name/)],
    ]);
  });

  it('a file without its header line: its first row is not shown as column names where it holds a phone or a seed', async () => {
    const { problems } = await read('a@b.com,+1 425 555 0101,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,Alice\n');
    const unknown = problems.filter((p) => p.code === 'column-unknown').map((p) => [p.field, p.message]);
    expect(unknown).toEqual([
      ['a@b.com', 'unknown column "a@b.com" is ignored'],
      ['+* *** *** **01', 'unknown column "+* *** *** **01" is ignored'],
      ['column 3', 'unknown column a value that looks like a secret (32 Base32 characters, not shown) is ignored'],
      ['Alice', 'unknown column "Alice" is ignored'],
    ]);
  });

  it('warns when a username is not a UPN; one no on-premises name can be is told to be corrected (a black-box test saw CORP\\ told it would be matched)', async () => {
    const { problems } = await read('username\nCONTOSO\\alice\n');
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'username-invalid', message: expect.stringMatching(/plan matches it by the synced on-premises name/) })]);
    const malformed = await read('username\nCORP\\\n\\bob2\nA\\B\\C\n@corp.local\nx@\n');
    expect(malformed.problems.map((p) => [p.code, /no tenant user will be found for it: correct the username$/.test(p.message)])).toEqual(Array(5).fill(['username-invalid', true]));
  });

  it('reads usernames in composed form: a decomposed ü is the same name, so a row spelling it the other way is a duplicate (a black-box test)', async () => {
    const nfd = 'mu\u0308ller@contoso.com';
    const { users, problems } = await read(`username\n${nfd}\nM\u00fcller@CONTOSO.com\njo\u0308rg@contoso.com\n`);
    expect(users?.map((u) => u.username)).toEqual(['m\u00fcller@contoso.com', 'j\u00f6rg@contoso.com']);
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'error', code: 'duplicate-user', line: 3, field: 'username', message: expect.stringMatching(/^username M\u00fcller@CONTOSO\.com already appears on line 2 \(usernames are compared case-insensitively, and in Unicode's composed form/) }),
    ]);
  });

  it('a username holding an invisible character is told to be corrected, the character shown (a black-box test took alice@contoso.com + U+200B for a UPN)', async () => {
    const { users, problems } = await read('username\nalice@contoso.com\u200b\nb\u00adob@contoso.com\nCORP\\\ufeffcarol\n');
    // Kept (their other problems are still found), and matched to no one.
    expect(users?.map((u) => u.line)).toEqual([2, 3, 4]);
    expect(problems.map((p) => [p.severity, p.code, p.line, p.field, p.message])).toEqual([
      ['warning', 'username-invalid', 2, 'username', expect.stringMatching(/^username "alice@contoso\.com\\u200b" holds \\u200b, an invisible character .* that no UPN or on-premises name holds, so no tenant user will be found for it: correct the username$/)],
      ['warning', 'username-invalid', 3, 'username', expect.stringMatching(/^username "b\\u00adob@contoso\.com" holds \\u00ad, /)],
      ['warning', 'username-invalid', 4, 'username', expect.stringMatching(/^username "CORP\\\\ufeffcarol" holds \\ufeff, /)],
    ]);
    // Printed escaped in the JSON report too: the message holds no invisible character itself.
    for (const p of problems) expect(p.message).not.toMatch(/[\u00ad\u200b\ufeff]/);
  });

  it("usernames holding ? (an ASCII export) are errors: the file's first says why and what to do, once; each row names its user (a black-box test)", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `m?ller${i}@contoso.com`);
    const { users, problems } = await read(`username\nalice@contoso.com\n${rows.join('\n')}\nCORP\\j?rg\n`);
    expect(users).toHaveLength(52);
    const summary = problems.filter((p) => p.line === undefined);
    expect(summary).toEqual([
      {
        severity: 'error',
        code: 'username-invalid',
        file: 'users.csv',
        field: 'username',
        message: expect.stringMatching(/^usernames hold "\?" \(the first on line 3\), which no UPN or sAMAccountName holds, .*the file was probably written as ASCII.*Export-Csv.*export it again with -Encoding UTF8/),
      },
    ]);
    const perRow = problems.filter((p) => p.line !== undefined);
    expect(perRow.map((p) => [p.severity, p.code, p.line, p.field])).toEqual([...rows, 'CORP\\j?rg'].map((_, i) => ['error', 'username-invalid', i + 3, 'username']));
    expect(perRow[0]!.message).toBe('username "m?ller0@contoso.com" holds "?", which no UPN or sAMAccountName holds: a letter lost to an ASCII export (export again with -Encoding UTF8)');
    // Not told it is no UPN, or that plan looks it up by its on-premises name: that is not what is wrong.
    expect(problems.filter((p) => /not a user principal name|plan matches/.test(p.message))).toEqual([]);
  });
});

describe('an oath_token_serial Excel saved in scientific notation', () => {
  it('is an error at its row and field saying the digits are lost; the user keeps it, so no seed is joined to it', async () => {
    const { users, problems } = await read('username;OATH Token Serial Number\r\nalice@contoso.com;2.60022E+12\r\nbob@contoso.com;"2,60022E+12"\r\ncarol@contoso.com;2600215704919\r\n');
    expect(problems.map((p) => [p.severity, p.code, p.line, p.field])).toEqual([
      ['error', 'value-invalid', 2, 'oath_token_serial'],
      ['error', 'value-invalid', 3, 'oath_token_serial'],
    ]);
    expect(problems[0]!.message).toMatch(/"2\.60022E\+12" is a number in scientific notation.*Excel.*digits are lost/);
    expect(users!.map((u) => u.oathTokenSerial)).toEqual(['2.60022E+12', '2,60022E+12', '2600215704919']);
  });
});
