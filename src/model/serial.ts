/**
 * How token serials compare: without surrounding space, case-insensitively (vendors and exports
 * mix `ab12` and `AB12`) and in Unicode's composed form (NFC: a tool on macOS writes `é` as `e`
 * and a combining accent, which looks the same). Used wherever serials are matched: seed files,
 * users.csv, the tenant.
 */
export function serialKey(serial: string): string {
  return serial.normalize('NFC').trim().toLowerCase();
}

/**
 * The ways Graph may hold a serial that serialKey reads as this one, to be asked for each: Graph's
 * filter matches a serial as written, and one with accents may be composed or decomposed. Usually one.
 */
export function serialForms(serial: string): string[] {
  const s = serial.trim();
  return [...new Set([s, s.normalize('NFC'), s.normalize('NFD')])];
}
