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
});
