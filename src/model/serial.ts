/**
 * How token serials compare: without surrounding space and case-insensitively (vendors and exports
 * mix `ab12` and `AB12`). Used wherever serials are matched: seed files, users.csv, the tenant.
 */
export function serialKey(serial: string): string {
  return serial.trim().toLowerCase();
}
