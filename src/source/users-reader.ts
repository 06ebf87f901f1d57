import { clipped } from '../model/clipped.js';
import type { ExportedPhone, MfaMethod, MfaUser, MobileAppMode, PhoneCallMode, TextMessageDirection, TextMessageMode } from '../model/export-data.js';
import type { ProblemList } from '../model/problem.js';
import { maskPhone } from '../model/mask.js';
import { quotedCell } from './quoted-cell.js';
import { refuseSecretLikeCell } from './seeds/secret-like-cell.js';
import { excelScientificMessage, isExcelScientific } from './excel-scientific.js';
import { cellAt, columnPositions, indexColumns, rowFits, UnnamedColumns, type ColumnSpec, type RowReader } from './columns.js';
import { parsePhone } from './phone.js';
import { isEmailAddress } from '../model/email-address.js';
import { ownValue } from '../model/own-value.js';
import { NOT_IN_UPN, onPremisesName } from '../model/user-match.js';
import { composedUsername } from '../model/username.js';
import { escapedCharacter, firstInvisible } from '../model/hidden-characters.js';
import { printable } from '../model/printable.js';
import { AsciiExportNames } from './ascii-export.js';

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
  // MFA Server keeps a language per method (Directory Integration's four language attributes).
  { name: 'phone_call_language', aliases: ['call language'] },
  { name: 'text_message_language', aliases: ['sms language', 'text language'] },
  { name: 'mobile_app_language', aliases: ['app language'] },
  { name: 'oath_token_language', aliases: ['token language'] },
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

/**
 * A default method written with its mode, as MFA Server's Company Settings and the migration
 * utility's docs name them (`Phone call (PIN)`, `Text message (OTP + PIN)`), or as the PhoneFactor
 * SDK does (`sms_one_way_otp_plus_pin`, `phone_app_pin`). A mode column, when given, still decides.
 */
type MethodWithMode = Pick<MfaUser, 'phoneCallMode' | 'textMessageMode' | 'textMessageDirection' | 'mobileAppMode'> & { method: MfaMethod };
const METHODS_WITH_MODE: Record<string, MethodWithMode> = {
  'phone_call_(standard)': { method: 'phone_call', phoneCallMode: 'standard' },
  'phone_call_(pin)': { method: 'phone_call', phoneCallMode: 'pin' },
  'text_message_(otp)': { method: 'text_message', textMessageMode: 'otp' },
  'text_message_(otp_pin)': { method: 'text_message', textMessageMode: 'otp_pin' },
  'mobile_app_(standard)': { method: 'mobile_app', mobileAppMode: 'standard' },
  'mobile_app_(pin)': { method: 'mobile_app', mobileAppMode: 'pin' },
  sms_one_way_otp: { method: 'text_message', textMessageMode: 'otp', textMessageDirection: 'one_way' },
  sms_one_way_otp_plus_pin: { method: 'text_message', textMessageMode: 'otp_pin', textMessageDirection: 'one_way' },
  sms_two_way_otp: { method: 'text_message', textMessageMode: 'otp', textMessageDirection: 'two_way' },
  sms_two_way_otp_plus_pin: { method: 'text_message', textMessageMode: 'otp_pin', textMessageDirection: 'two_way' },
  phone_app_standard: { method: 'mobile_app', mobileAppMode: 'standard' },
  phone_app_pin: { method: 'mobile_app', mobileAppMode: 'pin' },
  // The SDK's phone-call modes are bare: `standard`, `pin` (its `pinMode`).
  standard: { method: 'phone_call', phoneCallMode: 'standard' },
  pin: { method: 'phone_call', phoneCallMode: 'pin' },
};

const PHONE_CALL_MODES: Record<string, PhoneCallMode> = { standard: 'standard', pin: 'pin' };
const MOBILE_APP_MODES: Record<string, MobileAppMode> = { standard: 'standard', pin: 'pin' };
const TEXT_MESSAGE_MODES: Record<string, TextMessageMode> = { otp: 'otp', otp_pin: 'otp_pin', otp_plus_pin: 'otp_pin' };
const DIRECTIONS: Record<string, TextMessageDirection> = { one_way: 'one_way', two_way: 'two_way', oneway: 'one_way', twoway: 'two_way' };

/**
 * `Phone call`, `OTP + PIN`, `One-Way` -> `phone_call`, `otp_pin`, `one_way`. Cells repeat
 * (`standard`, `Phone call`) across a whole export: each spelling is normalised once.
 */
const enumKeys = new Map<string, string>();
function enumKey(v: string): string {
  let key = enumKeys.get(v);
  if (key === undefined) {
    key = normaliseEnum(v);
    if (enumKeys.size < 10_000) enumKeys.set(v, key);
  }
  return key;
}

function normaliseEnum(v: string): string {
  return v
    .trim()
    .toLowerCase()
    .replace(/\s*\(\s*/g, ' (') // `Phone Call(PIN)` as `Phone call (PIN)`
    .replace(/\s*\)/g, ')')
    .replace(/\s*\+\s*/g, '_')
    .replace(/[\s-]+/g, '_');
}

/** A users.csv reader that also hands over its index of the users by lower-cased username. */
export interface UsersReader extends RowReader<MfaUser> {
  /** Lower-cased username -> position in result(); built while reading anyway (duplicate check). */
  byName(): ReadonlyMap<string, number>;
}

/**
 * Reads users.csv rows into MfaUser records as they stream in. Every problem is reported with its
 * line and field; a row with an unusable value keeps its other fields (the bad value is left
 * out), so one typo never hides the rest of the export.
 */

export function usersReader(problems: ProblemList): UsersReader {
  let at: Record<UserColumn, number> | undefined;
  let file = '';
  let width = 0;
  let unnamed: UnnamedColumns | undefined;
  let usable = true;
  let ascii: AsciiExportNames | undefined;
  const users: MfaUser[] = [];
  const seen = new Map<string, number>();

  return {
    header(h) {
      file = h.file;
      width = h.header.length;
      const index = indexColumns(h, USER_COLUMNS, problems);
      unnamed = new UnnamedColumns(h, problems);
      ascii = new AsciiExportNames(h.file, problems);
      at = index && columnPositions(index, USER_COLUMNS);
      usable = at !== undefined;
    },
    row({ line, cells }) {
      if (!at) return;
      if (!rowFits(cells, width, file, line, problems)) return;
      unnamed?.check(cells, line);
      const user = readUserRow(line, cells, at, file, problems, seen, users, ascii!);
      if (!user) return;
      users.push(user);
      readPhone(user, 'phone', cellAt(cells, at.phone_country_code), cellAt(cells, at.phone), cellAt(cells, at.phone_extension), problems, file);
      readPhone(user, 'backup_phone', cellAt(cells, at.backup_country_code), cellAt(cells, at.backup_phone), cellAt(cells, at.backup_extension), problems, file);
    },
    result: () => (usable ? users : undefined),
    byName: () => seen,
  };
}

function readUserRow(
  line: number,
  cells: string[],
  at: Record<UserColumn, number>,
  file: string,
  problems: ProblemList,
  seen: Map<string, number>,
  users: readonly MfaUser[],
  ascii: AsciiExportNames,
): MfaUser | undefined {
  const cell = cellAt(cells, at.username);
  if (cell === undefined) {
    problems.error('username-invalid', { file, line, field: 'username' }, 'username is empty');
    return undefined;
  }
  // A seed where the username belongs (columns out of order): the row is refused, never shown (a
  // username is in every finding, plan and report; a review saw one printed three times over).
  if (!cell.includes('@') && refuseSecretLikeCell(cell, 'username', 'name', problems, { file, line, field: 'username' }, 'row')) return undefined;
  const username = composedUsername(cell);
  const key = username.toLowerCase();
  const first = seen.get(key);
  if (first !== undefined) {
    problems.error('duplicate-user', { file, line, field: 'username' }, `username ${clipped(printable(username))} already appears on line ${users[first]!.line} (usernames are compared case-insensitively, and in Unicode's composed form: ü written as u and a combining mark is the same name)`);
    return undefined;
  }
  // The row is kept from here on: it becomes users[users.length].
  seen.set(key, users.length);
  const invisible = firstInvisible(username);
  if (ascii.check(username, line)) {
    // Said by the check: a letter lost to an ASCII export.
  } else if (invisible !== undefined) {
    // Shown escaped, in the JSON report too: printed as it is, the name reads as the name without it.
    problems.warning('username-invalid', { file, line, field: 'username' }, `username ${quotedCell(printable(username))} holds ${escapedCharacter(invisible)}, an invisible character (a zero-width space, soft hyphen or the like, as a copy out of a web page or document brings) that no UPN or on-premises name holds, so no tenant user will be found for it: correct the username`);
  } else if (!UPN.test(username)) {
    // A name no on-premises name can be (`CORP\`, `A\B\C`, `x@`) is said so: no tenant user will be found for it.
    const how = onPremisesName(username)
      ? 'plan matches it by the synced on-premises name (onPremisesSamAccountName; onPremisesUserPrincipalName for name@suffix) when exactly one tenant user has it, or, with --match-by upn, only by that exact UPN'
      : 'nor is it DOMAIN\\sam, a sAMAccountName or name@suffix, so no tenant user will be found for it: correct the username';
    problems.warning('username-invalid', { file, line, field: 'username' }, `username ${quotedCell(username)} is not a user principal name (name@domain): ${how}`);
  }

  const user: MfaUser = { line, username, enabled: true };
  const firstName = cellAt(cells, at.first_name);
  if (firstName !== undefined) user.firstName = firstName;
  const lastName = cellAt(cells, at.last_name);
  if (lastName !== undefined) user.lastName = lastName;
  const email = cellAt(cells, at.email);
  if (email !== undefined) {
    user.email = email;
    // Kept as written: the mapping applies the same rule and plans no email method for it (EMAIL-INVALID).
    // A warning: the column is migrated only with plan --include-email, and the user's other methods are not held back by it.
    if (!isEmailAddress(email)) {
      problems.warning('email-invalid', { file, line, field: 'email' }, `${quotedCell(email)} is not an email address (a name, an @ and a domain with a dot, no spaces: Graph refuses any other for the email method): with plan --include-email it is not migrated`);
    }
  }
  const group = cellAt(cells, at.user_group);
  if (group !== undefined) user.userGroup = shared(group);
  const language = cellAt(cells, at.language) ?? cellAt(cells, at.phone_call_language) ?? cellAt(cells, at.text_message_language) ?? cellAt(cells, at.mobile_app_language) ?? cellAt(cells, at.oath_token_language);
  if (language !== undefined) user.language = shared(language);
  const serial = cellAt(cells, at.oath_token_serial);
  if (serial !== undefined) {
    // Kept: it joins no seed (the seed readers refuse such serials), so the user's seed-missing error stops the plan.
    if (isExcelScientific(serial)) problems.error('value-invalid', { file, line, field: 'oath_token_serial' }, excelScientificMessage('token serial', serial));
    user.oathTokenSerial = serial;
  }

  const enabled = cellAt(cells, at.enabled);
  if (enabled !== undefined) {
    const v = enabled.toLowerCase();
    if (TRUE.has(v)) user.enabled = true;
    else if (FALSE.has(v)) user.enabled = false;
    else {
      // A user MFA Server may have disabled is never migrated on a guess.
      user.enabled = false;
      user.enabledUnreadable = true;
      problems.error('value-invalid', { file, line, field: 'enabled' }, `${quotedCell(enabled)} is not one of true/false/yes/no/1/0: the user is taken as disabled, and nothing is written for them`);
    }
  }

  const rawMethod = cellAt(cells, at.default_method);
  const withMode = rawMethod === undefined ? undefined : ownValue(METHODS_WITH_MODE, enumKey(rawMethod));
  if (withMode) {
    const { method, ...modes } = withMode;
    user.defaultMethod = method;
    Object.assign(user, modes);
  } else {
    const method = choice(cells, at.default_method, METHOD_NAMES, line, file, 'default_method', problems, 'phone_call, text_message, mobile_app, oath_token (or Phone call, Text message, Mobile app, OATH token, with a mode: Phone call (PIN), Text message (OTP + PIN), ...)');
    if (method) user.defaultMethod = method;
  }
  const callMode = choice(cells, at.phone_call_mode, PHONE_CALL_MODES, line, file, 'phone_call_mode', problems, 'standard, pin');
  if (callMode) user.phoneCallMode = callMode;
  const textMode = choice(cells, at.text_message_mode, TEXT_MESSAGE_MODES, line, file, 'text_message_mode', problems, 'otp, otp_pin');
  if (textMode) user.textMessageMode = textMode;
  const direction = choice(cells, at.text_message_direction, DIRECTIONS, line, file, 'text_message_direction', problems, 'one_way, two_way');
  if (direction) user.textMessageDirection = direction;
  const appMode = choice(cells, at.mobile_app_mode, MOBILE_APP_MODES, line, file, 'mobile_app_mode', problems, 'standard, pin');
  if (appMode) user.mobileAppMode = appMode;
  return user;
}

/** An enumerated cell (`Phone call`, `OTP + PIN`, ...) read through its table; unknown spellings are value-invalid. */
function choice<T>(cells: string[], position: number, table: Record<string, T>, line: number, file: string, field: UserColumn, problems: ProblemList, allowed: string): T | undefined {
  const raw = cellAt(cells, position);
  if (raw === undefined) return undefined;
  const v = ownValue(table, enumKey(raw));
  if (v === undefined) problems.error('value-invalid', { file, line, field }, `${quotedCell(raw)} is not one of ${allowed}`);
  return v;
}

const UPN = new RegExp(`^[^${NOT_IN_UPN}]+@[^${NOT_IN_UPN}]+\\.[^${NOT_IN_UPN}]+$`);

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
      problems.warning('value-invalid', { file, line: user.line, field: extensionColumn(field) }, 'an extension without a phone number is ignored');
    }
    return;
  }
  // Built property by property, in one order: an object literal that starts with a spread gets a
  // hidden class of its own in V8, some 300 bytes for each of 100,000 users.
  const cells: ExportedPhone = cc !== undefined ? { countryCode: cc, number } : { number };
  if (ext !== undefined) cells.extension = ext;
  (user.exportedPhones ??= {})[field] = cells;
  const result = parsePhone(cc, number, ext);
  if (result.ok) {
    if (field === 'phone') user.phone = result.phone;
    else user.backupPhone = result.phone;
    return;
  }
  (user.invalidPhones ??= []).push({ field, reason: result.reason });
  problems.error('phone-invalid', { file, line: user.line, field: result.cell === 'extension' ? extensionColumn(field) : field }, `${clipped(maskPhone(number))}: ${result.reason}`);
}

const extensionColumn = (field: 'phone' | 'backup_phone') => (field === 'phone' ? 'phone_extension' : 'backup_extension');

/** Cells that repeat across users (a language, a group name) kept once: 100,000 copies of "en" are 2 MB. */
const sharedCells = new Map<string, string>();
function shared(cell: string): string {
  const known = sharedCells.get(cell);
  if (known !== undefined) return known;
  if (sharedCells.size < 4096) sharedCells.set(cell, cell);
  return cell;
}
