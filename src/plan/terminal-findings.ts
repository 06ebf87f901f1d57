import { addTo } from '../model/add-to.js';
import type { Finding } from '../mapping/finding.js';
import { printable } from '../model/printable.js';

/**
 * A code with more findings than this, in one severity, is shown grouped in the terminal (one line
 * with the count and the first users) unless --all. Above the Contoso sample's largest (24 users
 * left phone-only), so a small export prints every finding, one a line, as it always has.
 */
export const FINDINGS_PER_CODE = 50;

/** Users named on a grouped line, or findings shown in full when their messages differ. */
const NAMED = 5;

/**
 * The findings of one severity, as terminal lines: each on its own, but a code with more than
 * FINDINGS_PER_CODE of them (30,000 users left phone-only at a large tenant: the same line each)
 * is one line at its first finding's place, with the count, the first users and the message when
 * it is the same for all; when the messages differ, the first ones in full and how many more.
 * The JSON, the saved plan and the reports keep every finding.
 */
export function findingLines(list: readonly Finding[], all: boolean, dim: (s: string) => string): { lines: string[]; grouped: boolean } {
  const one = (f: Finding) => `    ${printable(`${f.user ? `${f.user}: ` : ''}${f.message}`)} ${dim(`[${f.code}, ${f.rule}]`)}`;
  if (all) return { lines: list.map(one), grouped: false };
  const byCode = new Map<string, Finding[]>();
  for (const f of list) addTo(byCode, f.code, f);
  const lines: string[] = [];
  const grouped = new Set<string>();
  for (const f of list) {
    const same = byCode.get(f.code)!;
    if (same.length <= FINDINGS_PER_CODE) {
      lines.push(one(f));
      continue;
    }
    if (grouped.has(f.code)) continue;
    grouped.add(f.code);
    lines.push(...groupLines(same, one, dim));
  }
  return { lines, grouped: grouped.size > 0 };
}

function groupLines(same: readonly Finding[], one: (f: Finding) => string, dim: (s: string) => string): string[] {
  const first = same[0]!;
  if (same.every((f) => f.message === first.message)) {
    const rules = [...new Set(same.map((f) => f.rule))];
    const tag = dim(`[${first.code}, ${rules.join(', ')}]`);
    const users = same.filter((f) => f.user !== undefined).map((f) => f.user!);
    const named = users.slice(0, NAMED).join(', ');
    const rest = users.length - Math.min(users.length, NAMED);
    const who = users.length === 0 ? '' : `: ${named}${rest > 0 ? ` and ${rest} more` : ''}`;
    return [`    ${printable(`${first.code} (${same.length})${who}: ${first.message}`)} ${tag}`];
  }
  return [
    // Each line below carries its code and rule: the heading names the code and the count.
    `    ${printable(`${first.code} (${same.length}), the first ${NAMED}:`)}`,
    ...same.slice(0, NAMED).map((f) => `  ${one(f)}`),
    dim(`      ... and ${same.length - NAMED} more`),
  ];
}
