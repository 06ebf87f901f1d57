import { describe, expect, it } from 'vitest';
import { maskPhone, maskPhoneText } from '../../src/model/mask.js';

describe('maskPhone (issue 17 item 16: the mask hides all but the last two digits)', () => {
  it('keeps the country code and the last two digits of a number in Entra format', () => {
    expect(maskPhone('+1 4255550132')).toBe('+1 ********32');
    expect(maskPhone('+49 301234567')).toBe('+49 *******67');
    // At most two of ten national digits stay visible (the old mask left seven).
    expect(maskPhone('+1 4255550132').replace(/\D/g, '').slice(1)).toHaveLength(2);
  });

  it('hides an extension entirely and keeps nothing of a short number', () => {
    expect(maskPhone('+1 4255550103x1234')).toBe('+1 ********03x***');
    expect(maskPhone('+44 1234')).toBe('+44 ****');
  });

  it('masks text that is not in Entra format digit by digit, keeping its shape', () => {
    expect(maskPhone('030 1234567')).toBe('*** *****67');
    expect(maskPhoneText('(425) 555-0101')).toBe('(***) ***-**01');
    expect(maskPhoneText('123')).toBe('***');
  });

  it('masks digits of any script (a black-box test saw full-width and Arabic-Indic numbers echoed whole)', () => {
    expect(maskPhoneText('４２５５５５０１０１')).toBe('********０１');
    expect(maskPhoneText('٤٢٥٥٥٥٠١٠٣')).toBe('********٠٣');
    expect(maskPhone('425５５５0102')).toBe('********02');
    expect(maskPhone('+1 425 555 0104 ext ５５')).toBe('+* *** *** **** ext ５５');
  });
});
