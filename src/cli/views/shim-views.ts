import { printable } from '../../model/printable.js';
import type { ImportSummary } from '../../shim/import-store.js';
import type { ShimUnlocked } from '../../app/shim-unlock.js';

/**
 * What `shim import` prints. User names, serials and file names come from the export and the seed
 * files: every line goes through printable(), so an escape sequence in a cell shows as text instead
 * of retitling or clearing the admin's terminal (issue 17 item 12).
 */
export function renderImportSummary(store: string, s: ImportSummary): string {
  const lines = [
    `Token store ${store} (generation ${s.generation}): ${s.users} users, ${s.tokens} tokens`,
    `  ${s.added} new, ${s.kept} unchanged (state kept), ${s.reset} with a changed seed (state reset), ${s.removed.length} removed`,
    `  ${s.tokens - s.shimOnly} can also move to Entra; ${s.shimOnly} only the shim can verify (marked "shim only")`,
  ];
  for (const [kind, n] of Object.entries(s.byKind).sort()) lines.push(`  ${String(n).padStart(5)} x ${kind}`);
  if (s.perUser.length > 0) {
    lines.push('', 'Tokens per user:');
    const shown = s.perUser.map((u) => ({ name: printable(u.username), tokens: u.tokens }));
    const width = Math.max(...shown.map((u) => u.name.length));
    for (const u of shown.sort((a, b) => a.name.localeCompare(b.name))) {
      const tokens = u.tokens.map(
        (t) =>
          `${t.serial} (${t.type.toUpperCase()} ${t.algorithm.toUpperCase()} ${t.digits}${t.checkDigit === true ? '+1' : ''}${t.period ? `/${t.period}s` : ''}${t.entraCapable ? '' : ', shim only'}${t.change === 'added' ? '' : `, ${t.change}`})`,
      );
      lines.push(`  ${u.name.padEnd(width)}  ${tokens.join(', ')}`);
    }
  }
  if (s.removed.length > 0) lines.push('', `Removed (no longer in the export): ${s.removed.join(', ')}`);
  if (s.skipped.length > 0) {
    lines.push('', `Skipped seeds (${s.skipped.length}):`);
    for (const k of s.skipped) lines.push(`  ${k.serial}  ${k.source}${k.line !== undefined ? `:${k.line}` : ''}  ${k.reason}`);
  }
  return `${lines.map((l) => printable(l)).join('\n')}\n`;
}

/** What `shim unlock` prints; the user name is the admin's argument or the store's, shown printable. */
export function renderUnlocked(user: string, outcome: ShimUnlocked): string {
  if (outcome.status === 'requested') {
    return `unlock of ${printable(user)} handed to the running server (pid ${outcome.server.pid} on ${printable(outcome.server.host)}); it applies it within seconds and writes the audit line to its own audit log\n`;
  }
  const name = printable(outcome.username);
  // As the audit line says it: unlocked, fail_counter_reset, or nothing_to_clear.
  if (!outcome.cleared) return `${name} had no failures counted: nothing to clear\n`;
  return outcome.wasLocked ? `${name} unlocked\n` : `${name} was not locked out; fail counter reset\n`;
}
