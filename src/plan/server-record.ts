import type { ExportedPhone, MfaUser, PhoneNumber } from '../model/export-data.js';
import { serialKey } from '../model/serial.js';
import type { ServerPhone, ServerRecord } from './plan-model.js';

/**
 * The MFA Server record of one user as the plan shows it beside the cloud state: the phone cells as
 * exported with what they normalise to, the default method, the token serials and the mobile app
 * registrations. Pure: derived from the export alone, so planning again gives it again.
 */
export function serverRecord(user: MfaUser, seedSerials: readonly string[], devices: number): ServerRecord {
  const serials: string[] = [];
  const seen = new Set<string>();
  for (const s of [...(user.oathTokenSerial !== undefined ? [user.oathTokenSerial] : []), ...seedSerials]) {
    if (seen.has(serialKey(s))) continue;
    seen.add(serialKey(s));
    serials.push(s);
  }
  return {
    line: user.line,
    enabled: user.enabled,
    phone: serverPhone(user.exportedPhones?.phone, user.phone),
    backup_phone: serverPhone(user.exportedPhones?.backup_phone, user.backupPhone),
    default_method: user.defaultMethod ?? null,
    token_serials: serials,
    mobile_app_devices: devices,
  };
}

function serverPhone(cells: ExportedPhone | undefined, parsed: PhoneNumber | undefined): ServerPhone | null {
  if (cells) return { country_code: cells.countryCode ?? null, number: cells.number, extension: cells.extension ?? null, entra: parsed?.entra ?? null };
  // A record made without the reader's cells (an export built in code): the parsed parts stand in.
  if (parsed) return { country_code: parsed.countryCode, number: parsed.nationalNumber, extension: parsed.extension ?? null, entra: parsed.entra };
  return null;
}
