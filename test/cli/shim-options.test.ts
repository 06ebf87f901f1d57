import { afterEach, describe, expect, it, vi } from 'vitest';
import { notice } from '../../src/cli/shim-options.js';

describe('shim notices', () => {
  afterEach(() => vi.restoreAllMocks());

  it('show what they quote from files and requests printable: a client name with an escape sequence or a bidi override cannot rewrite the terminal (a black-box test)', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    notice('radius client 127.0.0.1 "\u001b[2Kvpn\u202e1" (clients line 1)');
    expect(written).toEqual(['mfa-migrate shim: radius client 127.0.0.1 "\\u001b[2Kvpn\\u202e1" (clients line 1)\n']);
  });
});
