import type { MfaMethod, MfaUser, MobileAppMode, PhoneCallMode, TextMessageDirection, TextMessageMode } from '../model/export-data.js';
import type { ProblemList } from '../model/problem.js';
import { maskPhone } from '../model/mask.js';
import { cell, indexColumns, type ColumnSpec } from './columns.js';
import type { CsvTable } from './csv-table.js';
import { parsePhone } from './phone.js';

export const USER_COLUMNS = [
  { name: 'username', aliases: ['upn', 'user principal name', 'user name', 'user', 'login', 'sign in name'], required: true },
  { name: 'first_name', aliases: ['firstname', 'given name', 'first'] },
  { name: 'last_name', aliases: ['lastname', 'surname', 'sn', 'last'] },
  { name: 'email', aliases: ['email address', 'mail', 'e-mail'] },
  { name: 'enabled', aliases: ['is enabled', 'active', 'account enabled'] },
  { name: 'user_group', aliases: ['group', 'user group name'] },
  { name: 'phone_country_code', aliases: ['country code', 'primary country code', 'primary phone country code', 'phone cc'] },
  { name: 'phone', aliases: ['primary phone', 'phone number', 'primary phone number', 'mfa phone'] },
  { name: 'phone_extension', aliases: ['extension', 'primary extension', 'primary phone extension', 'phone ext', 'ext'] },
  { name: 'backup_country_code', aliases: ['backup phone country code', 'backup cc'] },
  { name: 'backup_phone', aliases: ['backup phone number', 'alternate phone', 'secondary phone'] },
  { name: 'backup_extension', aliases: ['backup phone extension', 'backup ext'] },
  { name: 'default_method', aliases: ['method', 'default mfa method'] },
  { name: 'phone_call_mode', aliases: ['call mode', 'phone mode'] },
  { name: 'text_message_mode', aliases: ['sms mode', 'text mode'] },
  { name: 'text_message_direction', aliases: ['sms direction', 'text direction'] },
  { name: 'mobile_app_mode', aliases: ['app mode', 'mobile mode'] },
  { name: 'oath_token_serial', aliases: ['oath token serial number', 'oath serial', 'token serial', 'token serial number', 'oath token'] },
  { name: 'language', aliases: ['lang', 'locale'] },
] as const satisfies readonly ColumnSpec<string>[];

type UserColumn = (typeof USER_COLUMNS)[number]['name'];

const TRUE = new Set(['true', 'yes', 'y', '1', 'enabled']);
const FALSE = new Set(['false', 'no', 'n', '0', 'disabled']);

const METHOD_NAMES: Record<string, MfaMethod> = {
  phone_call: 'phone_call',
  phone: 'phone_call',
  voice: 'phone_call',
  text_message: 'text_message',
  text: 'text_message',
  sms: 'text_message',
  mobile_app: 'mobile_app',
  app: 'mobile_app',
  oath_token: 'oath_token',
  oath: 'oath_token',
  token: 'oath_token',
};

const PHONE_CALL_MODES: Record<string, PhoneCallMode> = { standard: 'standard', pin: 'pin' };
const MOBILE_APP_MODES: Record<string, MobileAppMode> = { standard: 'standard', pin: 'pin' };
const TEXT_MESSAGE_MODES: Record<string, TextMessageMode> = { otp: 'otp', otp_pin: 'otp_pin', otp_plus_pin: 'otp_pin' };
const DIRECTIONS: Record<string, TextMessageDirection> = { one_way: 'one_way', two_way: 'two_way', oneway: 'one_way', twoway: 'two_way' };

/** `Phone call`, `OTP + PIN`, `One-Way` -> `phone_call`, `otp_pin`, `one_way`. */
function enumKey(v: string): string {
  return v
    .trim()
    .toLowerCase()
    .replace(/\s*\+\s*/g, '_')
    .replace(/[\s\-]+/g, '_');
}

/**
 * Reads users.csv rows into MfaUser records. Every problem is reported with its line and field;
 * a row with an unusable value keeps its other fields (the bad value is left out), so one typo
 * never hides the rest of the export. Returns undefined when the columns make the file unreadable.
 */
export function readUsers(table: CsvTable, problems: ProblemList): MfaUser[] | undefined {
  const index = indexColumns(table, USER_COLUMNS, problems);
  if (!index) return undefined;
  const users: MfaUser[] = [];
  const seen = new Map<string, number>();
  const file = table.file;
  const width = table.header.length;

  for (const { line, cells } of table.rows) {
    if (cells.length !== width) {
      problems.error('csv-malformed', { file, line }, `row has ${cells.length} cells but the header has ${width}`);
      if (cells.length < width) continue;
    }
    const get = (name: UserColumn) => cell(cells, index, name);
    const username = get('username');
    if (username === undefined) {
      problems.error('username-invalid', { file, line, field: 'username' }, 'username is empty');
      continue;
    }
    const key = username.toLowerCase();
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      problems.error('duplicate-user', { file, line, field: 'username' }, `username ${username} already appears on line ${firstLine} (usernames are compared case-insensitively)`);
      continue;
    }
    seen.set(key, line);
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(username)) {
      problems.warning('username-invalid', { file, line, field: 'username' }, `username ${username} is not a user principal name (name@domain); it will only match a tenant user with that exact UPN`);
    }

    const user: MfaUser = { line, username, enabled: true };
    const text = (name: UserColumn, set: (v: string) => void) => {
      const v = get(name);
      if (v !== undefined) set(v);
    };
    text('first_name', (v) => (user.firstName = v));
    text('last_name', (v) => (user.lastName = v));
    text('email', (v) => (user.email = v));
    text('user_group', (v) => (user.userGroup = v));
    text('language', (v) => (user.language = v));
    text('oath_token_serial', (v) => (user.oathTokenSerial = v));

    const enabled = get('enabled');
    if (enabled !== undefined) {
      const v = enabled.toLowerCase();
      if (TRUE.has(v)) user.enabled = true;
      else if (FALSE.has(v)) user.enabled = false;
      else problems.error('value-invalid', { file, line, field: 'enabled' }, `"${enabled}" is not one of true/false/yes/no/1/0`);
    }

    const choice = <T>(name: UserColumn, table: Record<string, T>, allowed: string, set: (v: T) => void) => {
      const raw = get(name);
      if (raw === undefined) return;
      const v = table[enumKey(raw)];
      if (v === undefined) problems.error('value-invalid', { file, line, field: name }, `"${raw}" is not one of ${allowed}`);
      else set(v);
    };
    choice('default_method', METHOD_NAMES, 'phone_call, text_message, mobile_app, oath_token (or Phone call, Text message, Mobile app, OATH token)', (v) => (user.defaultMethod = v));
    choice('phone_call_mode', PHONE_CALL_MODES, 'standard, pin', (v) => (user.phoneCallMode = v));
    choice('text_message_mode', TEXT_MESSAGE_MODES, 'otp, otp_pin', (v) => (user.textMessageMode = v));
    choice('text_message_direction', DIRECTIONS, 'one_way, two_way', (v) => (user.textMessageDirection = v));
    choice('mobile_app_mode', MOBILE_APP_MODES, 'standard, pin', (v) => (user.mobileAppMode = v));

    readPhone(user, 'phone', get('phone_country_code'), get('phone'), get('phone_extension'), problems, file);
    readPhone(user, 'backup_phone', get('backup_country_code'), get('backup_phone'), get('backup_extension'), problems, file);
    users.push(user);
  }
  return users;
}

function readPhone(
  user: MfaUser,
  field: 'phone' | 'backup_phone',
  cc: string | undefined,
  number: string | undefined,
  ext: string | undefined,
  problems: ProblemList,
  file: string,
): void {
  if (number === undefined) {
    if (ext !== undefined) {
      problems.warning('value-invalid', { file, line: user.line, field: field === 'phone' ? 'phone_extension' : 'backup_extension' }, 'an extension without a phone number is ignored');
    }
    return;
  }
  const result = parsePhone(cc, number, ext);
  if (result.ok) {
    if (field === 'phone') user.phone = result.phone;
    else user.backupPhone = result.phone;
    return;
  }
  (user.invalidPhones ??= []).push({ field, reason: result.reason });
  problems.error('phone-invalid', { file, line: user.line, field }, `${maskPhone(number)}: ${result.reason}`);
}

