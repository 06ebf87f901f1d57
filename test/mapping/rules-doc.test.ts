import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { RULES } from '../../src/mapping/rules.js';

describe('docs/mapping.md', () => {
  const doc = readFileSync(new URL('../../docs/mapping.md', import.meta.url), 'utf8');

  it.each(Object.entries(RULES))('documents %s with the same text as the code', (id, text) => {
    expect(doc).toContain(`| \`${id}\` | ${text} |`);
  });

  it('documents no rule the code does not have', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(RULES).sort());
  });
});
