import { describe, expect, it } from 'vitest';
import { requestIdOf } from '../../src/graph/batch-pipeline.js';

describe("Graph's request id of a $batch item (what the run report shows, what support asks for)", () => {
  const envelope = { status: 200, headers: { 'request-id': 'env-1' }, body: null };
  it("is the item's own header first, then its error body's innerError, then the envelope's", () => {
    expect(requestIdOf({ status: 201, headers: { 'request-id': 'item-1' }, body: {} }, envelope)).toBe('item-1');
    expect(requestIdOf({ status: 400, headers: {}, body: { error: { code: 'x', innerError: { 'request-id': 'inner-1' } } } }, envelope)).toBe('inner-1');
    expect(requestIdOf({ status: 204, headers: {}, body: null }, envelope)).toBe('env-1');
    expect(requestIdOf(undefined, undefined)).toBeUndefined();
  });
});
