import { describe, expect, it } from 'vitest';
import { smsLessLineType } from '../../src/source/phone-line-type.js';

describe('smsLessLineType (libphonenumber max metadata)', () => {
  const typed = (cases: [string, string | undefined][]) => {
    for (const [number, type] of cases) expect(smsLessLineType(number), number).toBe(type);
  };

  it('finds landlines, also in a country that shares its calling code (found by a review: typed under the main country alone, they had no type)', () => {
    typed([
      ['+44 2079460959', 'fixed line'], // London
      ['+44 1481256789', 'fixed line'], // Guernsey, under +44
      ['+358 18123456', 'fixed line'], // Åland, under +358
      ['+49 3012345678x12', 'fixed line'], // Berlin, an extension aside
    ]);
  });

  it('finds toll-free and premium-rate numbers, which take no text messages either (a black-box test saw them planned as SMS defaults unsaid)', () => {
    typed([
      ['+1 8005550100', 'toll free'],
      ['+1 9005550100', 'premium rate'],
      ['+44 8001234567', 'toll free'],
      ['+44 9012345678', 'premium rate'],
    ]);
  });

  it('is undefined for mobiles, for numbers the plan cannot tell apart (North America) and for what it cannot read', () => {
    typed([
      ['+7 7011234567', undefined], // Kazakh mobile, under +7
      ['+44 7700900123', undefined], // UK mobile
      ['+1 4255550101', undefined], // FIXED_LINE_OR_MOBILE
      ['+999 1', undefined],
    ]);
  });

  it('answers a number asked again (from its kept answers) the same', () => {
    const cases: [string, string | undefined][] = [
      ['+44 2079460959', 'fixed line'],
      ['+1 8005550100', 'toll free'],
      ['+44 7700900123', undefined],
      ['+999 1', undefined],
      ['+44 20 7946 0959', 'fixed line'], // the same digits written otherwise
    ];
    typed(cases);
    typed(cases);
  });
});
