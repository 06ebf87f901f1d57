import type { OathAlgorithm, OathSeed, OathType } from '../../model/export-data.js';
import type { ProblemList } from '../../model/problem.js';
import { DEFAULT_CSV_LIMITS, type CsvLimits } from '../csv-limits.js';
import { leftOutAt } from '../seed-left-out.js';
import { warnIfCounterNearEnd } from './counter-headroom.js';
import { DIGITS_MAX, DIGITS_MIN, PERIOD_MAX, digitsMessage, parseCounter, parseInteger, parseOathAlgorithm, parseOathType } from './oath-parameters.js';
import { makeOathSeed, wipeSeeds } from './oath-seed.js';
import { composedUsername } from '../../model/username.js';
import { fieldsOf, forEachSeedCsvRow, type SeedCsvShape } from './seed-csv-file.js';
import { GENERIC_COLUMNS } from './seed-csv-header.js';
import { refuseSecretLikeCell } from './secret-like-cell.js';
import { pskcAlgorithmKind } from './pskc-algorithm-uri.js';
import { shownValue } from '../../model/shown-value.js';
import { refuseExcelScientificSerial } from '../excel-scientific.js';
import { refuseEncodedTwice } from './secret-suspect.js';
import { base32StrayBits, decodeSecret, guessSecretEncoding, STRAY_BITS_MESSAGE, type SecretEncoding } from './secret-encoding.js';

/**
 * The generic seed CSV: `serial,secret` plus optional `encoding,type,digits,period,algorithm,
 * counter,manufacturer,model,user`. Defaults: TOTP, 6 digits, 30 s, counter 0 for HOTP.
 *
 * The hash: an explicit `algorithm` cell wins; otherwise a hex seed of 32 bytes means SHA-256 and of
 * 64 bytes SHA-512 (the convention of LinOTP and privacyIDEA seed files), anything else SHA-1. There
 * is deliberately no file-wide default that could overwrite a per-row value (privacyIDEA #1061).
 */
export async function readGenericSeedCsv(path: string, display: string, shape: SeedCsvShape, problems: ProblemList, limits: CsvLimits = DEFAULT_CSV_LIMITS): Promise<OathSeed[]> {
  const seeds: OathSeed[] = [];
  /** Entra's upload columns (read here when they come with a parameter Entra's format lacks): their secret key is Base32, not guessed. */
  const entraColumns = shape.entraColumns === true;
  const whole = await forEachSeedCsvRow(
    path,
    display,
    shape,
    { spec: GENERIC_COLUMNS, required: ['serial', 'secret'], formatName: 'seed CSV' },
    problems,
    (row) => {
      const serial = row.get('serial');
      if (serial === '') {
        problems.error('value-invalid', row.where('serial'), 'the serial is empty; the row is skipped');
        return;
      }
      // Before any message names the token: a seed in the serial's place must not become its name,
      // nor one in a name's place a device's name (columns swapped, or a header naming them wrongly).
      if (refuseSecretLikeCell(serial, 'serial', 'serial', problems, row.where('serial'), 'row')) return;
      if (refuseExcelScientificSerial(serial, 'serial', problems, row.where('serial'), 'row')) return;
      // From here on each problem that skips the row carries its serial (Problem.serial): the token's user is told why it has no seed.
      for (const role of NAME_COLUMNS) if (refuseSecretLikeCell(row.get(role), role, 'name', problems, leftOutAt(row.where(role), serial), 'row')) return;
      let ok = true;
      const bad = (role: Parameters<typeof row.where>[0], message: string): void => {
        problems.error('value-invalid', leftOutAt(row.where(role), serial), `${message}; the row of token ${serial} is skipped`);
        ok = false;
      };

      // pskc2csv's algorithm cell is the PSKC key algorithm: the type (a PIN or OCRA key is no token's seed).
      const keyKind = pskcAlgorithmKind(row.get('algorithm'));
      if (keyKind === 'other') {
        problems.warning('value-invalid', leftOutAt(row.where('algorithm'), serial), `token ${serial} is not an HOTP or TOTP key (its algorithm is the PSKC key algorithm ${shownValue(row.get('algorithm'))}); the row is left out`);
        return;
      }
      let type: OathType = keyKind ?? 'totp';
      if (row.get('type') !== '') {
        const t = parseOathType(row.get('type'));
        if (t === null) bad('type', 'type must be totp or hotp');
        else if (keyKind !== null && t !== keyKind) bad('type', `the type ${t} disagrees with the algorithm cell's PSKC key algorithm (${keyKind})`);
        else type = t;
      }
      let digits = 6;
      if (row.get('digits') !== '') {
        const d = parseInteger(row.get('digits'), DIGITS_MIN, DIGITS_MAX);
        if (d === null) bad('digits', digitsMessage('digits', row.get('digits')));
        else digits = d;
      }
      let period: number | null = null;
      let counter: bigint | null = null;
      if (type === 'totp') {
        period = 30;
        if (row.get('period') !== '') {
          period = parseInteger(row.get('period'), 1, PERIOD_MAX);
          if (period === null) bad('period', `the period must be a whole number of seconds from 1 to ${PERIOD_MAX}`);
        }
      } else {
        counter = 0n;
        if (row.get('counter') !== '') {
          counter = parseCounter(row.get('counter'));
          if (counter === null) bad('counter', 'the counter must be a whole number from 0 to 18446744073709551615 (2^64 - 1)');
        }
      }
      let explicitAlgorithm: OathAlgorithm | undefined;
      if (row.get('algorithm') !== '' && keyKind === null) {
        const a = parseOathAlgorithm(row.get('algorithm'));
        if (a === null) bad('algorithm', 'the algorithm must be sha1, sha256 or sha512');
        else explicitAlgorithm = a;
      }
      let encoding: SecretEncoding | undefined;
      const encodingCell = row.get('encoding').toLowerCase().replace(/[^a-z0-9]/g, '');
      if (encodingCell !== '') {
        if (encodingCell === 'base32' || encodingCell === 'b32') encoding = 'base32';
        else if (encodingCell === 'hex' || encodingCell === 'hexadecimal' || encodingCell === 'base16') encoding = 'hex';
        else bad('encoding', 'the encoding must be base32 or hex');
      }

      const secretText = row.get('secret');
      if (secretText === '') {
        problems.error('secret-invalid', leftOutAt(row.where('secret'), serial), `the secret of token ${serial} is empty; the row is skipped`);
        return;
      }
      // A Base32 secret of only 2-7 and a-f (Entra's own sample) would be guessed to be hex: a wrong seed.
      const used = encoding ?? (entraColumns ? 'base32' : guessSecretEncoding(secretText));
      const bytes = decodeSecret(secretText, used);
      if (bytes === null || bytes.length === 0) {
        const how = used === 'hex' ? 'hex (an even number of 0-9, a-f)' : 'Base32 (letters A-Z, digits 2-7)';
        const guessed = encoding !== undefined ? '' : entraColumns ? " (Entra's secret key column; add an encoding column saying hex if it is hex)" : ' (encoding guessed; add an encoding column to say)';
        problems.error('secret-invalid', leftOutAt(row.where('secret'), serial), `the secret of token ${serial} is not valid ${how}${guessed}; the row is skipped`);
        return;
      }
      if (refuseEncodedTwice(bytes, 'secret', serial, problems, row.where('secret'), 'row')) return;
      if (used === 'base32' && base32StrayBits(secretText)) problems.warning('secret-suspect', row.where('secret'), `the Base32 secret of token ${serial} ${STRAY_BITS_MESSAGE}`);
      if (!ok) {
        bytes.fill(0);
        return;
      }
      const algorithm = explicitAlgorithm ?? inferAlgorithm(used, bytes.length);
      if (counter !== null) warnIfCounterNearEnd(serial, counter, problems, row.where('counter'));
      seeds.push(
        makeOathSeed(
          {
            serial,
            type,
            algorithm,
            digits,
            period,
            counter,
            manufacturer: row.get('manufacturer'),
            model: row.get('model'),
            user: composedUsername(row.get('user')),
            source: display,
            line: row.line,
            ...fieldsOf(row, 'serial', 'secret'),
          },
          bytes,
          problems,
          row.where('secret'),
        ),
      );
    },
    limits,
  );
  return whole ? seeds : wipeSeeds(seeds);
}

/** The cells kept as names of the token or its user (shown in reports and plans, sent to Entra). */
const NAME_COLUMNS = ['user', 'manufacturer', 'model'] as const;

/** Seed length as the hash hint, for hex seeds only (vendor hex files follow this convention). */
export function inferAlgorithm(encoding: SecretEncoding, length: number): OathAlgorithm {
  if (encoding === 'hex' && length === 32) return 'sha256';
  if (encoding === 'hex' && length === 64) return 'sha512';
  return 'sha1';
}
