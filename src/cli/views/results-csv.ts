import type { ResultRow } from '../../app/results.js';

/**
 * `--results`: one row per user in scope, `user,outcome,done,failed,skipped,first_error`. A cell
 * that a spreadsheet would run as a formula (starting with = + - @, tab or CR) gets a leading `'`.
 */
export function renderResultsCsv(rows: readonly ResultRow[]): string {
  const head = 'user,outcome,done,failed,skipped,first_error';
  return `${[head, ...rows.map((r) => [r.user, r.outcome, String(r.done), String(r.failed), String(r.skipped), r.first_error].map(csvCell).join(','))].join('\n')}\n`;
}

export function csvCell(value: string): string {
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
