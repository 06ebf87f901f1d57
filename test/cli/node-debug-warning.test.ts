import { describe, expect, it } from 'vitest';
import { nodeDebugWarning } from '../../src/cli/node-debug-warning.js';
import { runMain } from '../helpers/run-main.js';

describe('NODE_DEBUG set (found by a security round: NODE_DEBUG=stream printed an export\'s seeds)', () => {
  it('is said once on stderr, before the command runs, naming what it can print', async () => {
    const args = ['validate', '--source', 'fixtures/contoso', '--format', 'json'];
    const plain = await runMain(args, { env: { NODE_DEBUG: undefined } });
    const r = await runMain(args, { env: { NODE_DEBUG: 'stream' } });
    const warnings = r.stderr.split('\n').filter((l) => l.includes('NODE_DEBUG'));
    expect(warnings).toEqual([expect.stringMatching(/^mfa-migrate: warning: NODE_DEBUG is set \(stream\): .*seeds.*unset it/)]);
    expect(r.stderr.startsWith(warnings[0]!)).toBe(true);
    // Only said: the command's outcome and output are as without it.
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: plain.code, stdout: plain.stdout });
  });

  it('is not said when NODE_DEBUG is unset or empty', async () => {
    expect(nodeDebugWarning({})).toBeUndefined();
    expect(nodeDebugWarning({ NODE_DEBUG: ' ' })).toBeUndefined();
    const r = await runMain(['validate', '--source', 'fixtures/contoso', '--format', 'json'], { env: { NODE_DEBUG: undefined } });
    expect(r.stderr).not.toContain('NODE_DEBUG');
  });
});
