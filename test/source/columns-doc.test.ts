import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../src/source/columns.js';
import { headerKey } from '../../src/source/csv-table.js';
import { GENERIC_COLUMNS, normalizeHeader } from '../../src/source/seeds/seed-csv-header.js';
import { DEVICE_COLUMNS } from '../../src/source/devices-reader.js';
import { USER_COLUMNS } from '../../src/source/users-reader.js';

/** The header spellings each export column takes, as the code has them and as docs/export-format.md lists them (a docs audit found `device display name` read and not listed). */
describe('docs/export-format.md lists every header spelling the readers accept', () => {
  const doc = readFileSync(new URL('../../docs/export-format.md', import.meta.url), 'utf8');
  /** A section's table rows: the columns of the first cell, the spellings of the second. */
  const table = (heading: string) => {
    const section = doc.slice(doc.indexOf(`\n${heading}\n`) + 1);
    const body = section.slice(0, section.indexOf('\n## ') === -1 ? undefined : section.indexOf('\n## '));
    return body
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split(' | '))
      .map(([columns, also]) => ({ columns: [...columns!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!), also: [...also!.matchAll(/`([^`]+)`/g)].map((m) => headerKey(m[1]!)) }));
  };

  it.each([
    ['## users.csv', USER_COLUMNS],
    ['## devices.csv', DEVICE_COLUMNS],
  ] as [string, readonly ColumnSpec<string>[]][])('%s: the same spellings for each column', (heading, specs) => {
    const rows = table(heading);
    for (const spec of specs) {
      const row = rows.find((r) => r.columns.includes(spec.name));
      expect(row, spec.name).toBeDefined();
      // A row may name several columns (the per-method languages): their spellings together.
      const code = specs.filter((s) => row!.columns.includes(s.name)).flatMap((s) => s.aliases.map(headerKey));
      expect([...row!.also].sort(), spec.name).toEqual([...code].sort());
    }
    expect(rows.flatMap((r) => r.columns).sort()).toEqual(specs.map((s) => s.name).sort());
  });
});

describe('docs/seed-formats.md lists every header spelling the generic seed CSV accepts', () => {
  const doc = readFileSync(new URL('../../docs/seed-formats.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('\n## 3. Generic seed CSV\n'));
  /** `serial` (`serial number`, `sn`), `model`: each column with the spellings in its parentheses. */
  const documented = new Map<string, string[]>();
  for (const row of section.slice(0, section.indexOf('\n## ', 1)).split('\n').filter((l) => l.startsWith('| `'))) {
    for (const [, name, also] of row.split(' | ')[0]!.slice(2).matchAll(/`([^`]+)`(?: \(([^)]*)\))?/g)) {
      documented.set(normalizeHeader(name!), [name!, ...[...(also ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!)].map(normalizeHeader));
    }
  }

  it.each(Object.entries(GENERIC_COLUMNS))('%s', (role, names) => {
    expect(documented.get(role)?.sort(), role).toEqual([...names].sort());
  });

  it('no column the reader does not have', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(GENERIC_COLUMNS).sort());
  });
});
