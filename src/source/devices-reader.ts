import type { MobileDevice } from '../model/export-data.js';
import type { ProblemList } from '../model/problem.js';
import { secretFingerprint } from '../model/secret.js';
import { base32StrayBits, decodeBase32, STRAY_BITS_MESSAGE } from './seeds/secret-encoding.js';
import { refuseSecretLikeCell } from './seeds/secret-like-cell.js';
import { quotedCell } from './quoted-cell.js';
import { composedUsername } from '../model/username.js';
import { AsciiExportNames } from './ascii-export.js';
import { cell, indexColumns, rowFits, UnnamedColumns, type ColumnIndex, type ColumnSpec, type RowReader } from './columns.js';

export const DEVICE_COLUMNS = [
  { name: 'username', aliases: ['upn', 'user principal name', 'user name', 'user'], required: true },
  { name: 'device_name', aliases: ['device', 'name', 'device display name'], required: true },
  { name: 'registered_at', aliases: ['registered', 'registration date', 'registered on', 'activated at', 'created'] },
  { name: 'device_token', aliases: ['push token', 'token'] },
  { name: 'oath_secret', aliases: ['oath secret key', 'secret key', 'secret', 'oath token secret key'] },
] as const satisfies readonly ColumnSpec<string>[];

/**
 * Reads devices.csv (mobile-app registrations). The app's OTP seed is checked and reduced to its
 * fingerprint at once; the seed itself is not kept.
 */
export function devicesReader(problems: ProblemList): RowReader<MobileDevice> {
  let index: ColumnIndex<DeviceColumn> | undefined;
  let file = '';
  let width = 0;
  let unnamed: UnnamedColumns | undefined;
  let ascii: AsciiExportNames | undefined;
  const devices: MobileDevice[] = [];
  return {
    header(h) {
      file = h.file;
      width = h.header.length;
      index = indexColumns(h, DEVICE_COLUMNS, problems);
      unnamed = new UnnamedColumns(h, problems);
      ascii = new AsciiExportNames(h.file, problems);
    },
    row({ line, cells }) {
      if (!index) return;
      if (!rowFits(cells, width, file, line, problems)) return;
      unnamed?.check(cells, line);
      const device = readDeviceRow(line, cells, index, file, problems, ascii!);
      if (device) devices.push(device);
    },
    result: () => (index ? devices : undefined),
  };
}

type DeviceColumn = (typeof DEVICE_COLUMNS)[number]['name'];

function readDeviceRow(line: number, cells: string[], index: ColumnIndex<DeviceColumn>, file: string, problems: ProblemList, ascii: AsciiExportNames): MobileDevice | undefined {
    const given = cell(cells, index, 'username');
    if (given === undefined) {
      problems.error('username-invalid', { file, line, field: 'username' }, 'username is empty');
      return undefined;
    }
    // Composed as users.csv's are (docs/export-format.md), or a decomposed ü would be another user.
    const username = composedUsername(given);
    const deviceName = cell(cells, index, 'device_name') ?? '';
    const registered = cell(cells, index, 'registered_at');
    // The app's seed under another column (columns out of order): the row is refused, the value never
    // shown (a username is quoted by findings, reports and plans).
    for (const [field, value] of [['username', username], ['device_name', deviceName], ['registered_at', registered ?? '']] as const) {
      if (refuseSecretLikeCell(value, field === 'device_name' ? 'device name' : field, 'name', problems, { file, line, field }, 'row')) return undefined;
    }
    ascii.check(username, line);
    if (deviceName === '') problems.warning('value-invalid', { file, line, field: 'device_name' }, 'device name is empty');
    const device: MobileDevice = { line, username, deviceName };

    if (registered !== undefined) {
      const t = Date.parse(registered);
      if (Number.isNaN(t)) problems.warning('value-invalid', { file, line, field: 'registered_at' }, `${quotedCell(registered)} is not a date (use ISO 8601, e.g. 2025-03-01T10:00:00Z)`);
      else device.registeredAt = new Date(t).toISOString();
    }
    const token = cell(cells, index, 'device_token');
    if (token !== undefined) device.deviceToken = token;
    const secret = cell(cells, index, 'oath_secret');
    if (secret !== undefined) {
      const bytes = decodeBase32(secret);
      if (bytes === null) problems.error('secret-invalid', { file, line, field: 'oath_secret' }, 'the OATH secret is not valid Base32');
      else {
        if (base32StrayBits(secret)) problems.warning('secret-suspect', { file, line, field: 'oath_secret' }, `the OATH secret ${STRAY_BITS_MESSAGE}`);
        device.oathSecretFingerprint = secretFingerprint(bytes);
      }
    }
    return device;
}
