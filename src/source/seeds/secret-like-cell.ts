import type { ProblemList, Where } from '../../model/problem.js';

/**
 * A seed CSV cell that should hold a serial (or a user, manufacturer or model) but holds what looks
 * like a seed: the columns are in the wrong order, or a header names them wrongly. Such a cell must
 * never become a serial or a device's name, which messages, reports and plans show.
 *
 * Hardware token serials are short: Yubico 7-8 digits, RSA 9-12, Feitian and Token2 about 13,
 * OATH token identifiers 12 characters (`OATH0001C4D5`), privacyIDEA's `TOTP0001A2B3`. Seeds are
 * longer: 20 bytes (40 hex, 32 Base32 characters) for SHA-1, and never under 10 bytes in practice
 * (the grouping vendors print seeds with, spaces, `-` and `:`, is not counted). So a cell is taken
 * for a seed when it is only hex and 20 or more characters (all digits too: RFC 4226's seed is),
 * only Base32 and 16 or more, or only Base64 and 24 or more (a 16-byte seed). A name (`user`,
 * `manufacturer`, `model`) made of letters alone is a word, not a seed, unless it is 32 letters or
 * more written without a space. Words of unequal sizes, parted by spaces (in a name, hyphens too), are text whatever their characters.
 */
export function secretLikeCell(value: string, kind: 'serial' | 'name'): string | null {
  // Vendors print a seed in groups of one size (`JBSW Y3DP EHPK`), the last maybe shorter (a `0x`
  // before it and `=` padding after it aside). Words of other sizes are text (`Yubico YubiKey 5 NFC`,
  // `Token2 Switzerland`), not a seed however its characters read (a review). Only spaces part words:
  // a hex or Base64 seed cut by `-` or `:` (a GUID's shape included) is still one.
  const bare = value.trim().replace(/^0x/i, '').replace(/=+$/, '');
  const unequal = (groups: string[]) => groups.length > 1 && !groups.every((g, i) => (i === groups.length - 1 ? g.length <= groups[0]!.length : g.length === groups[0]!.length));
  if (unequal(bare.split(/\s+/).filter((g) => g !== ''))) return null;
  // A name's words may be parted by hyphens too (`Pixel-7-Pro-Work-Phone`: a review saw it refused),
  // unless they are hex alone (a hex seed in a GUID's shape stays one).
  if (kind === 'name' && /[^0-9a-f\s-]/i.test(bare) && unequal(bare.split(/[\s-]+/).filter((g) => g !== ''))) return null;
  let s = value.replace(/[\s:-]+/g, '');
  if (/^0x/i.test(s)) s = s.slice(2);
  if (kind === 'name' && /^[a-z]+$/i.test(s) && (s.length < 32 || /\s/.test(value.trim()))) return null;
  if (s.length >= 20 && /^[0-9a-f]+$/i.test(s)) return `${s.length} hex characters`;
  if (s.length >= 16 && /^[a-z2-7]+=*$/i.test(s)) return `${s.length} Base32 characters`;
  if (s.length >= 24 && /^[A-Za-z0-9+/]+={0,2}$/.test(s)) return `${s.length} Base64 characters`;
  return null;
}

/**
 * Refuses a row whose `what` cell (`serial`, `user`, ...) looks like a seed, with an error at `where`
 * that neither shows the value nor names the token (its serial may be the misplaced seed). True when
 * the row was refused; the caller skips it.
 */
export function refuseSecretLikeCell(value: string, what: string, kind: 'serial' | 'name', problems: ProblemList, where: Where, unit: 'row' | 'line' | 'key'): boolean {
  const looks = secretLikeCell(value, kind);
  if (looks === null) return false;
  problems.error('value-invalid', where, `the ${what} looks like a secret (${looks}, not shown): ${unit === 'key' ? 'is the file written with its fields in the wrong places' : 'are the columns in the right order'}? The ${unit} is skipped`);
  return true;
}
