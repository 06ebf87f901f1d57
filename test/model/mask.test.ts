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
    // An extension in the cell is hidden, in any script: the number's last two digits show, as in Entra's form.
    expect(maskPhone('+1 425 555 0104 ext ５５')).toBe('+* *** *** **04 ext ***');
  });

  it("hides an extension written in the number cell, and shows the number's last two digits, as the Entra form does (an auditor saw the two disclose both)", () => {
    const cell = maskPhoneText('(425) 555-0123 x45');
    const entra = maskPhone('+1 4255550123x45');
    expect(cell).toBe('(***) ***-**23 x***');
    expect(entra).toBe('+1 ********23x***');
    // Side by side they reveal the same digits of the number, and nothing of the extension.
    const shown = (t: string) => t.replace(/^\+\d+/, '').replace(/\D/g, '');
    expect(shown(cell)).toBe('23');
    expect(shown(entra)).toBe('23');
    // An extension column besides (the cells disagree, so there is no Entra form): still hidden.
    expect(maskPhoneText('425-555-7654 x12')).toBe('***-***-**54 x***');
    for (const [text, masked] of [
      ['425 555 0123 ext. 45', '*** *** **23 ext. ***'],
      ['4255550123 extension 4567', '********23 extension ***'],
      ['425.555.0123#9', '***.***.**23#***'],
      ['4255550123X45', '********23X***'],
      // A letter counts as a digit (a vanity number's are): the last two kept are then ３ and ｘ.
      ['４２５５５５０１２３ｘ', '*********３ｘ'],
      // Found by a black-box test: vanity letters and RFC 3966's `;ext=` showed through.
      ['1-800-FLOWERS', '*-***-*****RS'],
      ['+1-425-555-0123;ext=55', '+*-***-***-**23;ext=***'],
    ]) expect(maskPhoneText(text!), text).toBe(masked);
    // A short number keeps none of its digits, with or without an extension.
    expect(maskPhoneText('1234 x5')).toBe('**** x***');
  });
});
