import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/run-main.js';

const HELP_POINTER = '(run with --help for usage and examples)\n';

/** Found by a black-box test: `runs` and `shim` took a word naming none of their subcommands otherwise than the program does. */
describe('a subcommand name that is not one (runs, shim)', () => {
  it('is refused as an unknown command with the suggestion, as top-level commands and `shim serv` are, exit 1', async () => {
    for (const args of [['runs', 'verfy', 'X'], ['runs', 'verfy'], ['runs', '--state-dir', '/nonexistent/s', 'verfy', 'X']]) {
      const r = await runMain(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([1, `mfa-migrate: unknown command 'verfy'\n(Did you mean verify?)\n${HELP_POINTER}`]);
      expect(r.stdout).toBe('');
    }
    expect(await runMain(['shim', 'serv'])).toEqual({ code: 1, stdout: '', stderr: `mfa-migrate: unknown command 'serv'\n(Did you mean serve?)\n${HELP_POINTER}` });
  });

  it('followed by --help is refused as unknown too, not answered with the parent\'s help and exit 0', async () => {
    expect(await runMain(['runs', 'list', '--help'])).toEqual({ code: 1, stdout: '', stderr: `mfa-migrate: unknown command 'list'\n${HELP_POINTER}` });
    expect(await runMain(['shim', 'status', '--help'])).toEqual({ code: 1, stdout: '', stderr: `mfa-migrate: unknown command 'status'\n${HELP_POINTER}` });
    expect(await runMain(['shim', 'serv', '--help'])).toEqual({ code: 1, stdout: '', stderr: `mfa-migrate: unknown command 'serv'\n(Did you mean serve?)\n${HELP_POINTER}` });
  });

  it('leaves the real ones, their options and the help alone', async () => {
    for (const args of [['runs', '--help'], ['runs', 'verify', '--help'], ['runs', '--state-dir', '/x', 'verify', 'R', '--help'], ['shim', '--help'], ['shim', 'serve', '--help'], ['shim', 'help', 'serve'], ['help', 'shim']]) {
      const r = await runMain(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([0, '']);
      expect(r.stdout, args.join(' ')).toMatch(/^Usage: mfa-migrate (runs|shim)\b/);
    }
    // `runs` alone still lists the runs (none in an empty state folder).
    const state = mkdtempSync(join(tmpdir(), 'unknown-subcommand-'));
    try {
      const none = await runMain(['runs', '--state-dir', state, '--format', 'json']);
      expect([none.code, none.stderr, JSON.parse(none.stdout)]).toEqual([0, '', []]);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
