import type { ResultRow } from '../../app/results.js';
import { printable } from '../../model/printable.js';

/**
 * `--results`: one row per user in scope, `user,outcome,done,failed,skipped,first_error`. A cell
 * that a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading `'`;
 * control characters and bidi marks (U+202E) are shown as `\u202e`-style escapes.
 */
export function renderResultsCsv(rows: readonly ResultRow[]): string {
  const head = 'user,outcome,done,failed,skipped,first_error';
  return `${[head, ...rows.map((r) => [r.user, r.outcome, String(r.done), String(r.failed), String(r.skipped), r.first_error].map(csvCell).join(','))].join('\n')}\n`;
}

export function csvCell(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${printable(value)}` : printable(value);
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
