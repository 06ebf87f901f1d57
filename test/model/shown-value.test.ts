import { describe, expect, it } from 'vitest';
import { shownValue } from '../../src/model/shown-value.js';

describe('shownValue', () => {
  it.each([
    ['urn:ietf:params:xml:ns:keyprov:pskc:hotp', '"urn:ietf:params:xml:ns:keyprov:pskc:hotp"'],
    ['HMAC-SHA256', '"HMAC-SHA256"'],
    ['1.1', '"1.1"'],
    ['ALPHANUMERIC', '"ALPHANUMERIC"'],
  ])('quotes a value that cannot be key material: %s', (v, shown) => {
    expect(shownValue(v)).toBe(shown);
  });

  it.each([
    'INQW4YLSPFJWKZLEIJ4XIZLTEMYDANBS', // Base32
    '3132333435363738393031323334353637383930', // hex
    'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=', // Base64
    'JBSW Y3DP EHPK 3PXP', // Base32 in groups
    '31:32:33:34:35:36:37:38:39:30', // hex with separators
    'x'.repeat(81),
  ])('never shows what could be a secret: %s', (v) => {
    expect(shownValue(v)).toBe(`(a value of ${v.length} characters, not shown: it could be a secret)`);
  });
});
