import { describe, expect, it } from 'vitest';
import { isFixedLineOnly } from '../../src/source/phone-line-type.js';

describe('isFixedLineOnly (libphonenumber max metadata)', () => {
  it('finds landlines, also in a country that shares its calling code (found by a review: typed under the main country alone, they had no type)', () => {
    expect(isFixedLineOnly('+44 2079460959')).toBe(true); // London
    expect(isFixedLineOnly('+44 1481256789')).toBe(true); // Guernsey, under +44
    expect(isFixedLineOnly('+358 18123456')).toBe(true); // Åland, under +358
    expect(isFixedLineOnly('+49 3012345678x12')).toBe(true); // Berlin, an extension aside
  });

  it('is false for mobiles, for numbers the plan cannot tell apart (North America) and for what it cannot read', () => {
    expect(isFixedLineOnly('+7 7011234567')).toBe(false); // Kazakh mobile, under +7
    expect(isFixedLineOnly('+44 7700900123')).toBe(false); // UK mobile
    expect(isFixedLineOnly('+1 4255550101')).toBe(false); // FIXED_LINE_OR_MOBILE
    expect(isFixedLineOnly('+999 1')).toBe(false);
  });
});
