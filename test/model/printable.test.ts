import { describe, expect, it } from 'vitest';
import { printable } from '../../src/model/printable.js';

describe('printable', () => {
  it('shows control characters and reordering marks as text, keeps everything else', () => {
    expect(printable('\u001b[2J\u0007bell\u009b31m')).toBe('\\u001b[2J\\u0007bell\\u009b31m');
    expect(printable('admin\u202Egnp.exe')).toBe('admin\\u202egnp.exe');
    expect(printable('Jürgen ✓ 😀 tab\there')).toBe('Jürgen ✓ 😀 tab\\u0009here');
    expect(printable('two\nlines')).toBe('two\\u000alines');
    expect(printable('two\nlines', true)).toBe('two\nlines');
  });

  it('shows the characters that display as nothing (a black-box test printed alice@contoso.com + U+200B as alice@contoso.com)', () => {
    expect(printable('alice@contoso.com\u200b')).toBe('alice@contoso.com\\u200b');
    expect(printable('a\u00adb\u180ec\u200cd\u200de\u2060f\u2064g\ufeffh')).toBe('a\\u00adb\\u180ec\\u200cd\\u200de\\u2060f\\u2064g\\ufeffh');
    // Their neighbours are text: a no-break space, a hair space, an en dash, a Mongolian letter.
    expect(printable('a\u00a0b\u200ac\u2013d\u1820')).toBe('a\u00a0b\u200ac\u2013d\u1820');
  });
});
