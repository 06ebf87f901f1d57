import { describe, expect, it } from 'vitest';
import { renderImportSummary, renderUnlocked } from '../../../src/cli/views/shim-views.js';
import type { ImportSummary } from '../../../src/shim/import-store.js';

const HOSTILE = 'eve\u001b]0;owned\u0007\u001b[2J\u202etxt.exe';
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('shim views (issue 17 item 12)', () => {
  it('issue 17 item 12: the import summary shows control sequences and bidi overrides from the input as escapes', () => {
    const summary: ImportSummary = {
      generation: 1,
      users: 1,
      tokens: 1,
      byKind: { 'TOTP SHA1 6 digits 30 s': 1 },
      perUser: [{ username: HOSTILE, tokens: [{ serial: `S\u001b[31m1`, type: 'totp', algorithm: 'sha1', digits: 6, period: 30, change: 'added', entraCapable: true }] }],
      added: 1,
      kept: 0,
      reset: 0,
      shimOnly: 0,
      removed: [`OLD\u001b[H`],
      skipped: [{ serial: 'X', source: `seeds\u001b[8m.csv`, line: 3, reason: 'no user in the export has this token' }],
    };
    const text = renderImportSummary('./shim.store', summary);
    expect(text).not.toMatch(CONTROL);
    expect(text).toContain('eve\\u001b]0;owned\\u0007\\u001b[2J\\u202etxt.exe');
    expect(text).toContain('S\\u001b[31m1');
    expect(text).toContain('seeds\\u001b[8m.csv:3');
  });

  it('issue 17 item 12: unlock messages show the user name printable', () => {
    expect(renderUnlocked(HOSTILE, { status: 'unlocked', username: HOSTILE, wasLocked: true, cleared: true })).not.toMatch(CONTROL);
    const handed = renderUnlocked(HOSTILE, { status: 'requested', requestFile: 'x', server: { id: 'i', pid: 1, host: 'h\u001b[2J', command: 'shim serve', startedAt: 'now' } });
    expect(handed).not.toMatch(CONTROL);
    expect(handed).toMatch(/^unlock of eve\\u001b\]0;owned/);
  });

  it('an unlock that found nothing to clear says so, as its audit line does (a black-box test read "fail counter reset")', () => {
    expect(renderUnlocked('ivan', { status: 'unlocked', username: 'ivan@contoso.com', wasLocked: false, cleared: false })).toBe('ivan@contoso.com had no failures counted: nothing to clear\n');
    expect(renderUnlocked('ivan', { status: 'unlocked', username: 'ivan@contoso.com', wasLocked: false, cleared: true })).toBe('ivan@contoso.com was not locked out; fail counter reset\n');
    expect(renderUnlocked('ivan', { status: 'unlocked', username: 'ivan@contoso.com', wasLocked: true, cleared: true })).toBe('ivan@contoso.com unlocked\n');
  });
});
