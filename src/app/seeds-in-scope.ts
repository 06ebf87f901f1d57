import type { Problem } from '../model/problem.js';
import { printable } from '../model/printable.js';
import type { ExportBundle } from '../source/export-bundle.js';
import { firstTenOf } from './user-list.js';

/**
 * The export's tokens with no seed (`seed-missing`), split by whether their user is in `scope`
 * (lower-case usernames; undefined: the whole export): only those of users in scope stop a plan,
 * since a token with no seed would silently lose its user's token (and move their default off it).
 * Those outside it (`others`, by username) need no seed for this plan: a note at most (a wave of five
 * users was refused over other waves' tokens).
 */
export function missingSeedsInScope(bundle: ExportBundle, scope: ReadonlySet<string> | undefined): { mine: Problem[]; others: string[] } {
  const missing = bundle.problems.items.filter((p) => p.severity === 'error' && p.code === 'seed-missing');
  if (missing.length === 0) return { mine: [], others: [] };
  const byLine = new Map(bundle.users.map((u) => [u.line, u.username]));
  const inScope = (p: Problem) => !scope || scope.has((byLine.get(p.line ?? 0) ?? '').toLowerCase());
  return { mine: missing.filter(inScope), others: missing.filter((p) => !inScope(p)).flatMap((p) => byLine.get(p.line ?? 0) ?? []) };
}

/** The note on the users outside the scope whose tokens have no seed. */
export function othersMissingSeedsText(others: readonly string[]): string {
  return `Note: ${others.length} user(s) outside this plan's scope have a token with no seed in the files given (${firstTenOf(others, (u) => printable(u))}): this plan does not need them; a plan that takes those users in does`;
}
