/**
 * How token serials compare: without surrounding space, case-insensitively (vendors and exports
 * mix `ab12` and `AB12`) and in Unicode's composed form (NFC: a tool on macOS writes `é` as `e`
 * and a combining accent, which looks the same). Used wherever serials are matched: seed files,
 * users.csv, the tenant.
 */
export function serialKey(serial: string): string {
  return serial.normalize('NFC').trim().toLowerCase();
}
