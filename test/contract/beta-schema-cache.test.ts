import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBetaSchemaCached } from './beta-schema-cache.js';
import { readBetaSchema } from './beta-types.js';

describe('the beta schema kept between runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfa-beta-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const dts = join(dir, 'microsoft-graph.d.ts');
  const cache = join(dir, 'cache');

  it('is what the compiler reads, kept once and read back; declarations changed since are read afresh', () => {
    writeFileSync(dts, 'export interface Entity { id?: string; }\nexport interface User extends Entity { displayName?: NullableOption<string>; kind?: Kind[]; }\nexport type Kind = "a" | "b";\n');
    const fresh = readBetaSchema(dts);
    expect(Object.keys(fresh.types)).toEqual(['microsoft.graph.entity', 'microsoft.graph.user']);
    expect(readBetaSchemaCached(dts, cache)).toEqual(fresh);
    expect(readdirSync(cache)).toHaveLength(1);
    // Read back from the kept file: its schema, edited here, is what comes back.
    const [kept] = readdirSync(cache);
    writeFileSync(join(cache, kept!), JSON.stringify({ ...fresh, source: 'kept' }));
    expect(readBetaSchemaCached(dts, cache).source).toBe('kept');
    writeFileSync(dts, 'export interface Entity { id?: string; name?: string; }\n');
    const changed = readBetaSchemaCached(dts, cache);
    expect(changed).toEqual(readBetaSchema(dts));
    expect(changed.types['microsoft.graph.entity']!.properties).toHaveProperty('name');
    expect(readdirSync(cache)).toHaveLength(2);
  });
});
