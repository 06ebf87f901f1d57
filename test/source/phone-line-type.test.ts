import { describe, expect, it } from 'vitest';
import { smsLessLineType } from '../../src/source/phone-line-type.js';

describe('smsLessLineType (libphonenumber max metadata)', () => {
  it('finds landlines, also in a country that shares its calling code (found by a review: typed under the main country alone, they had no type)', () => {
    expect(smsLessLineType('+44 2079460959')).toBe('fixed line'); // London
    expect(smsLessLineType('+44 1481256789')).toBe('fixed line'); // Guernsey, under +44
    expect(smsLessLineType('+358 18123456')).toBe('fixed line'); // Åland, under +358
    expect(smsLessLineType('+49 3012345678x12')).toBe('fixed line'); // Berlin, an extension aside
  });

  it('finds toll-free and premium-rate numbers, which take no text messages either (a black-box test saw them planned as SMS defaults unsaid)', () => {
    expect(smsLessLineType('+1 8005550100')).toBe('toll free');
    expect(smsLessLineType('+1 9005550100')).toBe('premium rate');
    expect(smsLessLineType('+44 8001234567')).toBe('toll free');
    expect(smsLessLineType('+44 9012345678')).toBe('premium rate');
  });

  it('is undefined for mobiles, for numbers the plan cannot tell apart (North America) and for what it cannot read', () => {
    expect(smsLessLineType('+7 7011234567')).toBeUndefined(); // Kazakh mobile, under +7
    expect(smsLessLineType('+44 7700900123')).toBeUndefined(); // UK mobile
    expect(smsLessLineType('+1 4255550101')).toBeUndefined(); // FIXED_LINE_OR_MOBILE
    expect(smsLessLineType('+999 1')).toBeUndefined();
  });
});
