import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { UserError } from '../../src/model/user-error.js';
import { applyFile, CONTOSO, CONTOSO_TOKENS, tempDir, planOfUntouched } from '../helpers/migration.js';
import { runMain } from '../helpers/run-main.js';
import { mountTmpfs, unmount } from '../helpers/tmpfs.js';

const tmp = tempDir('readonly');
const readOnly = join(tmp.dir, 'ro');
const cannot = mountTmpfs(readOnly, '64k', 'ro');
if (cannot) process.stderr.write(`read-only folder tests skipped: cannot mount a tmpfs (${cannot})\n`);

/** Issue 17 item 15: a read-only --state-dir or --out is said so before anything is read or written, without a stack. */
describe.skipIf(cannot !== undefined)('read-only folders', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: 'off' });
  });
  afterAll(async () => {
    await emu.stop();
    unmount(readOnly);
    tmp.cleanup();
  });

  it('apply refuses a read-only state folder, existing or to be made in it, before any write to the tenant', async () => {
    const planFile = join(tmp.dir, 'contoso.plan');
    const { g } = await planOfUntouched(planFile);
    g.emu.clearRequests();
    for (const stateDir of [readOnly, join(readOnly, 'tenant-a')]) {
      const err = (await applyFile(g, planFile, stateDir).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(UserError);
      expect(err.message).toBe(`cannot write to the state folder ${stateDir}: it is on a read-only file system; name a writable one with --state-dir`);
    }
    expect(g.operations().filter((o) => o.method !== 'GET')).toEqual([]);
    expect(existsSync(join(readOnly, 'tenant-a'))).toBe(false);
  });

  it('the CLI says so in one line, exit 1; plan --out in a read-only folder fails before the plan is read or printed', async () => {
    const planFile = join(tmp.dir, 'cli.plan');
    const tokens = CONTOSO_TOKENS.flatMap((t) => ['--tokens', t]);
    const seedKeys = ['--pskc-key-file', join(CONTOSO, 'tokens', 'psk.hex'), '--pskc-password-file', join(CONTOSO, 'tokens', 'pskc-password.txt')];
    const planned = await runMain(['plan', '--source', CONTOSO, ...tokens, ...seedKeys, '--graph-url', emu.url, '--out', planFile]);
    expect(planned.code, planned.stderr).toBe(0);

    const applied = await runMain(['apply', planFile, '--state-dir', readOnly]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain(`cannot write to the state folder ${readOnly}: it is on a read-only file system`);
    expect(applied.stderr).not.toMatch(/\n\s+at /);

    const before = emu.requests().length;
    const refused = await runMain(['plan', '--source', CONTOSO, ...tokens, ...seedKeys, '--graph-url', emu.url, '--out', join(readOnly, 'x.plan')]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`--out ${join(readOnly, 'x.plan')}: cannot write in ${readOnly} (EROFS)`);
    expect(emu.requests().length).toBe(before);

    // A black-box test: each of these did its work (apply: wrote the tenant), then ended in an unexpected error.
    const folder = await runMain(['plan', '--source', CONTOSO, ...tokens, ...seedKeys, '--graph-url', emu.url, '--out', tmp.dir]);
    expect([folder.code, folder.stdout, folder.stderr.trim()]).toEqual([1, '', `mfa-migrate: --out ${tmp.dir}: is a folder; name a file`]);
    const empty = await runMain(['plan', '--source', CONTOSO, ...tokens, ...seedKeys, '--graph-url', emu.url, '--report', '']);
    // Refused with every other empty value, before the command runs.
    expect([empty.code, empty.stderr.split('\n')[0]]).toEqual([1, "mfa-migrate: option '--report <file>' is given an empty value"]);
    const results = await runMain(['apply', planFile, '--graph-url', emu.url, '--state-dir', join(tmp.dir, 'state'), '--results', join(readOnly, 'r.csv')]);
    expect(results.code).toBe(1);
    expect(results.stderr).toContain(`--results ${join(readOnly, 'r.csv')}: cannot write in ${readOnly} (EROFS)`);
    expect(results.stderr).not.toMatch(/\n\s+at /);
    const shown = await runMain(['show', planFile, '--report', join(readOnly, 'r.html')]);
    expect([shown.code, shown.stdout]).toEqual([1, '']);
    expect(emu.requests().length).toBe(before);
  });
});
