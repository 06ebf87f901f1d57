import { describe, expect, it } from 'vitest';
import { canonicalJson, stateFingerprint } from '../../src/plan/fingerprint.js';

/** The definition: keys sorted, undefined properties left out, arrays as JSON.stringify joins them. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`)
    .join(',')}}`;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves undefined properties out, so equal states give one text and one fingerprint', () => {
    const a = { phoneType: 'mobile', phoneNumber: '+1 4255550100', nested: { z: 1, a: [3, { y: null, b: 'x' }] }, gone: undefined };
    const b = { nested: { a: [3, { b: 'x', y: null }], z: 1 }, phoneNumber: '+1 4255550100', phoneType: 'mobile' };
    expect(canonicalJson(a)).toBe('{"nested":{"a":[3,{"b":"x","y":null}],"z":1},"phoneNumber":"+1 4255550100","phoneType":"mobile"}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(stateFingerprint(b)).toBe(stateFingerprint(a));
  });

  it('gives the text of its definition for every kind of value: the fingerprints saved plans and journals hold stay the same', () => {
    const values: unknown[] = [
      null,
      undefined,
      0,
      -1.5,
      true,
      '',
      'é "quoted" \\ \n line',
      [],
      {},
      [undefined, null, 1],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      { '': 1, 'é': 2, B: 3, a: 4, 10: 5, 9: 6 },
      { a: { b: { c: [{ e: undefined, d: [] }] } } },
      new Date(0),
    ];
    for (const v of values) expect(canonicalJson(v), String(reference(v))).toBe(reference(v));
  });
});
