import type { OathSeed } from '../../model/export-data.js';
import type { ProblemList } from '../../model/problem.js';
import { DEFAULT_CSV_LIMITS, type CsvLimits } from '../csv-limits.js';
import { leftOutAt } from '../seed-left-out.js';
import { PERIOD_MAX, parseInteger } from './oath-parameters.js';
import { makeOathSeed, wipeSeeds } from './oath-seed.js';
import { composedUsername } from '../../model/username.js';
import { fieldsOf, forEachSeedCsvRow, type SeedCsvShape } from './seed-csv-file.js';
import { ENTRA_COLUMNS } from './seed-csv-header.js';
import { refuseSecretLikeCell } from './secret-like-cell.js';
import { refuseExcelScientificSerial } from '../excel-scientific.js';
import { refuseEncodedTwice } from './secret-suspect.js';
import { base32StrayBits, decodeBase32, decodeHex, STRAY_BITS_MESSAGE } from './secret-encoding.js';

/** The cells kept as names of the token or its user (shown in reports and plans, sent to Entra). */
const NAME_COLUMNS = ['upn', 'manufacturer', 'model'] as const;

/**
 * Entra admin center's OATH token upload CSV (`upn,serial number,secret key,time interval,
 * manufacturer,model`): Base32 secrets of TOTP SHA-1 tokens with 6-digit codes. Whether Entra will
 * take a given interval (30 or 60 s) is for the export-level validation to say, not this reader.
 */

export async function readEntraUploadCsv(path: string, display: string, shape: SeedCsvShape, problems: ProblemList, limits: CsvLimits = DEFAULT_CSV_LIMITS): Promise<OathSeed[]> {
  const seeds: OathSeed[] = [];
  const whole = await forEachSeedCsvRow(
    path,
    display,
    shape,
    {
      spec: ENTRA_COLUMNS,
      required: ['upn', 'serial', 'secret', 'period'],
      formatName: 'Entra OATH upload CSV',
      columnNames: { serial: 'serial number', secret: 'secret key', period: 'time interval' },
    },
    problems,
    (row) => {
      const serial = row.get('serial');
      if (serial === '') {
        problems.error('value-invalid', row.where('serial'), 'the serial number is empty; the row is skipped');
        return;
      }
      // Before any message names the token: a seed in the serial's place must not become its name.
      if (refuseSecretLikeCell(serial, 'serial number', 'serial', problems, row.where('serial'), 'row')) return;
      if (refuseExcelScientificSerial(serial, 'serial number', problems, row.where('serial'), 'row')) return;
      // From here on each problem that skips the row carries its serial (Problem.serial): the token's user is told why it has no seed.
      for (const role of NAME_COLUMNS) if (refuseSecretLikeCell(row.get(role), role, 'name', problems, leftOutAt(row.where(role), serial), 'row')) return;
      const period = parseInteger(row.get('period'), 1, PERIOD_MAX);
      if (period === null) {
        problems.error('value-invalid', leftOutAt(row.where('period'), serial), `the time interval of token ${serial} must be a whole number of seconds from 1 to ${PERIOD_MAX}; the row is skipped`);
        return;
      }
      const bytes = row.get('secret') === '' ? null : decodeBase32(row.get('secret'));
      if (bytes === null || bytes.length === 0) {
        // Some vendors write Entra's columns with hex seeds (Deepnet's documentation allows either): say how to read them.
        const asHex = bytes === null ? decodeHex(row.get('secret')) : null;
        asHex?.fill(0);
        const hex = asHex !== null ? ': it reads as hex, which Entra\'s upload CSV does not take; add an encoding column saying hex (the file is then read as a generic seed CSV, see docs/seed-formats.md)' : '';
        problems.error('secret-invalid', leftOutAt(row.where('secret'), serial), `the secret key of token ${serial} is empty or not valid Base32 (letters A-Z, digits 2-7)${hex}; the row is skipped`);
        return;
      }
      if (refuseEncodedTwice(bytes, 'secret key', serial, problems, row.where('secret'), 'row')) return;
      if (base32StrayBits(row.get('secret'))) problems.warning('secret-suspect', row.where('secret'), `the secret key of token ${serial} ${STRAY_BITS_MESSAGE}`);
      seeds.push(
        makeOathSeed(
          {
            serial,
            type: 'totp',
            algorithm: 'sha1',
            digits: 6,
            period,
            counter: null,
            user: composedUsername(row.get('upn')),
            manufacturer: row.get('manufacturer'),
            model: row.get('model'),
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
