import { GENERIC_COLUMNS, normalizeHeader } from './seed-csv-header.js';

/**
 * A seed CSV column the reader does not know, named as an OATH parameter (`Time Step (s)`, `OTP
 * Digits`, `HMAC`, `Event Counter`, `Seed Format`). Ignored as other unknown columns are, each token
 * would be read with the default (30 s, 6 digits, SHA-1, counter 0, the guessed encoding): a token
 * whose codes never match once migrated. The patterns are narrow so that a vendor's other columns
 * (`Warranty Period`, `Seed Hash`, `Seed Length`, `Shared With`, `Digital Certificate`) stay a warning.
 */
const PARAMETERS: ReadonlyArray<[keyof typeof GENERIC_COLUMNS, RegExp]> = [
  ['period', /interval|timestep|^step|^period|^(?:time|totp|otp|token)period|timewindow/],
  ['digits', /digit(?!al)|^(?:otp|code|response|token|passcode)len(?:gth)?/],
  ['algorithm', /algo|hmac|^hash|^sha(?:\d|type|mode|$)/],
  ['counter', /counter|movingfactor/],
  ['encoding', /encod|^(?:seed|secret|key)format/],
];

/** The parameter an unknown column's name suggests, or null. */
export function parameterLikeColumn(name: string): keyof typeof GENERIC_COLUMNS | null {
  const n = normalizeHeader(name);
  for (const [role, pattern] of PARAMETERS) if (pattern.test(n)) return role;
  return null;
}

/** The names the generic seed CSV reads the parameter under, for the message, as docs/seed-formats.md writes them. */
export function parameterNames(role: keyof typeof GENERIC_COLUMNS): string {
  return GENERIC_COLUMNS[role].map((a) => WORDS[a] ?? a).join(', ');
}

const WORDS: Readonly<Record<string, string>> = {
  timeinterval: 'time interval',
  timestep: 'time step',
  otplength: 'otp length',
  responselength: 'response length',
  hashalgorithm: 'hash algorithm',
  hashfunction: 'hash function',
  secretencoding: 'secret encoding',
  seedencoding: 'seed encoding',
  keyencoding: 'key encoding',
};
