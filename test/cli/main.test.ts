import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateExport } from '../../fixtures/generate-export.js';
import { CLI, ROOT, runCli } from '../helpers/run-cli.js';
import { runMain } from '../helpers/run-main.js';
import { startEmulator } from '../../src/emulator/index.js';

describe('mfa-migrate (the program)', () => {
  it('lists every command in its help, and each command, aliases included, has its own help with examples', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const commands = ['validate', 'plan', 'apply', 'resume', 'rollback', 'runs', 'status', 'emulator', 'demo', 'shim'];
    for (const c of commands) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    // Each command's help in process: the bundle's lazily loaded commands are spawned by the end-to-end tests.
    for (const c of commands) {
      const r = await runMain([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain(`Usage: mfa-migrate ${c}`);
      expect(r.stdout, c).toMatch(/Examples?:/);
      // An example's line continued without its backslash (a template literal ate it) runs on with spaces.
      for (const line of r.stdout.split('\n').filter((l) => l.startsWith('  $ '))) expect(line, c).not.toMatch(/\S {6,}--/);
    }
  });

  /** Found by a review: the shim's sub-commands' examples ran on (a template literal ate the backslash), and apply's --plan-hash example was refused as written. */
  it('prints sub-commands\' examples as they run: continued lines keep their backslash, no elided value', async () => {
    for (const c of [['shim', 'import'], ['shim', 'serve'], ['shim', 'check'], ['shim', 'unlock'], ['runs', 'verify'], ['apply'], ['resume'], ['rollback'], ['report'], ['plan']]) {
      const r = await runMain([...c, '--help']);
      expect(r.code, c.join(' ')).toBe(0);
      const lines = r.stdout.split('\n');
      for (const [i, line] of lines.entries()) {
        if (!line.startsWith('  $ ') && !lines[i - 1]?.endsWith(' \\')) continue;
        expect(line, c.join(' ')).not.toMatch(/\S {6,}--/);
        expect(line, c.join(' ')).not.toMatch(/…|\.\.\./);
      }
    }
  });

  /** Found by a review: commander checked required options first, so `plan --bogus` complained of --source, not of --bogus. */
  it('reports an unknown option before a required one missing, and a missing required one still', async () => {
    const first = async (args: string[]) => {
      const r = await runMain(args);
      return [r.code, r.stderr.split('\n')[0]];
    };
    expect(await first(['plan', '--bogus'])).toEqual([1, "mfa-migrate: unknown option '--bogus'"]);
    expect(await first(['shim', 'check', '--bogus'])).toEqual([1, "mfa-migrate: unknown option '--bogus'"]);
    expect(await first(['plan'])).toEqual([1, "mfa-migrate: required option '--source <dir>' not specified"]);
    expect(await first(['shim', 'check', '--store', 'x.store', '--code', '1'])).toEqual([1, "mfa-migrate: required option '--user <user>' not specified"]);
    expect((await runMain(['plan', '--bogus'])).stderr).toBe("mfa-migrate: unknown option '--bogus'\n(run with --help for usage and examples)\n");
    // A typo of a known option: three lines, as cli.md shows them.
    expect((await runMain(['validate', '--sourc', 'x'])).stderr).toBe("mfa-migrate: unknown option '--sourc'\n(Did you mean --source?)\n(run with --help for usage and examples)\n");
  });

  it("refuses an empty value, an empty argument, and an option of one value given twice, before the command runs (a black-box test: --users \"$UNSET\" applied the whole plan)", async () => {
    const first = async (args: string[]) => {
      const r = await runMain(args);
      return [r.code, r.stderr.split('\n')[0]];
    };
    expect(await first(['apply', 'x.plan', '--users', ''])).toEqual([1, "mfa-migrate: option '--users <file>' is given an empty value"]);
    expect(await first(['plan', '--source', '.', '--target-group', ''])).toEqual([1, "mfa-migrate: option '--target-group <nameOrId>' is given an empty value"]);
    expect(await first(['validate', '--source', '.', '--tokens', 'a.pskc', '--tokens', ''])).toEqual([1, "mfa-migrate: option '--tokens <file>' is given an empty value"]);
    expect(await first(['shim', 'import', '--store', '', '--source', '.'])).toEqual([1, "mfa-migrate: option '--store <file>' is given an empty value"]);
    expect(await first(['apply', ''])).toEqual([1, 'mfa-migrate: an argument is empty']);
    expect(await first(['plan', '--source', '.', '--users', 'a.txt', '--users=b.txt'])).toEqual([1, "mfa-migrate: option '--users <file>' is given more than once: it takes one value"]);
    expect(await first(['plan', '--source', '.', '--group', 'A', '--group', 'B'])).toEqual([1, "mfa-migrate: option '--group <nameOrId>' is given more than once: it takes one value"]);
    // An option both a command and its sub-command take may be given to each (a review).
    const both = await runMain(['runs', '--state-dir', '/nonexistent/s', 'verify', 'RUN', '--state-dir', '/nonexistent/s']);
    expect(both.stderr).not.toContain('more than once');
    // Repeatable options stay repeatable.
    const tokens = await runMain(['validate', '--source', '/nonexistent', '--tokens', 'a.pskc', '--tokens', 'b.pskc']);
    expect(tokens.stderr).toContain('the source folder does not exist');
  });

  it('takes decimal digits alone as a count: no hex, exponent or number past 2^53 (a black-box test: --batch-size 0x10 was 16)', async () => {
    for (const bad of ['0x10', '1e3', '99999999999999999999999', '']) {
      const r = await runMain(['apply', 'x.plan', '--batch-size', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')[0]).toMatch(bad === '' ? /is given an empty value|must be a positive integer/ : new RegExp(`--batch-size must be a positive integer, got "${bad}"`));
    }
  });

  /** Found by a black-box test: `mfa-migrate --no-color validate ...` was refused as an unknown option. */
  it('takes --no-color before the command name as after it', async () => {
    const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    // Colour is for a terminal only, and NO_COLOR (which runMain sets) turns it off: a terminal, no NO_COLOR.
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      const run = (args: string[]) => runMain(args, { env: { NO_COLOR: undefined } });
      const validate = ['validate', '--source', 'fixtures/contoso'];
      const coloured = await run(validate);
      expect(coloured.stdout).toContain('\u001b[');
      for (const args of [['--no-color', ...validate], [...validate, '--no-color'], ['validate', '--no-color', '--source', 'fixtures/contoso']]) {
        const plain = await run(args);
        expect([plain.code, plain.stderr], args.join(' ')).toEqual([coloured.code, coloured.stderr]);
        expect(plain.stdout, args.join(' ')).toBe(coloured.stdout.replace(/\u001b\[[0-9;]*m/g, ''));
      }
    } finally {
      if (tty) Object.defineProperty(process.stdout, 'isTTY', tty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
    expect((await runMain(['--help'])).stdout).toMatch(/^ {2}--no-color +no colours in the output/m);
  });

  it('prints its version without loading any command, and suggests the command meant for a typo (exit 1)', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const typo = await runCli(['plna']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('Did you mean plan?');
    // Usage errors read like every other error.
    expect(typo.stderr.split('\n')[0]).toBe("mfa-migrate: unknown command 'plna'");
    const unknown = await runCli(['validate', '--source', '.', '--bogus']);
    expect([unknown.code, unknown.stderr.split('\n')[0]]).toEqual([1, "mfa-migrate: unknown option '--bogus'"]);
    // A repeatable option followed by the next option: its value is missing, not "--source" (which then read as not given).
    const missing = await runCli(['validate', '--tokens', '--source', '.']);
    expect([missing.code, missing.stderr.split('\n')[0]]).toEqual([1, "mfa-migrate: option '--tokens <file>' argument '--source' is invalid. a value is missing (the next word is the option --source)"]);
  });

  it('says what a new admin got wrong: a plan file given to resume, the emulator on a port in use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'main-hints-'));
    try {
      const plan = join(dir, 'wave1.plan');
      writeFileSync(plan, '{}');
      const state = join(dir, 'state');
      mkdirSync(state, { mode: 0o700 });
      const r = await runMain(['resume', plan, '--state-dir', state]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`no run ${plan} in ${state} (${plan} is a file: this command takes a run id, which mfa-migrate runs lists; a saved plan is applied with mfa-migrate apply ${plan})`);
      const busy = createServer();
      await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
      const port = (busy.address() as AddressInfo).port;
      try {
        const e = await runMain(['emulator', '--port', String(port)]);
        expect(e.code).toBe(1);
        expect(e.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use (another process; choose another with --port)`);
      } finally {
        busy.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends quietly when its output pipe closes early (mfa-migrate validate --format json | head -1)', async () => {
    // Far more output than a pipe holds (about 260 KB against 64 KiB), so the write after the reader has gone fails with EPIPE.
    const dir = mkdtempSync(join(tmpdir(), 'main-epipe-'));
    try {
      await generateExport({ out: dir, users: 1000, tokenShare: 1, deviceShare: 0, backupShare: 0, tenantMethodShare: 0, seed: 5, tenant: false });
      const child = spawn(process.execPath, [CLI, 'validate', '--source', dir, '--tokens', join(dir, 'tokens', 'seeds.pskc'), '--format', 'json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // Read one chunk, then close our end of the pipe, as head does.
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it.skipIf(!existsSync('/dev/full'))('output it cannot write (a full disk: /dev/full) ends in one line and exit 1, not a stack trace; stderr it cannot write stops nothing (a black-box test saw an apply killed by its progress line)', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const run = async (args: string[], stdio: ['ignore', number | 'pipe', number | 'pipe']) => {
        const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio });
        let stderr = '';
        child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        return { code, stderr };
      };
      const lost = await run(['validate', '--source', 'fixtures/contoso', '--format', 'json'], ['ignore', full, 'pipe']);
      expect(lost).toEqual({ code: 1, stderr: 'mfa-migrate: the output could not be written (ENOSPC): it is incomplete; what the command did stands\n' });
      // Its notices on stderr unwritable, a plan is made and saved all the same, exit 0.
      const dir = mkdtempSync(join(tmpdir(), 'main-full-'));
      const emu = await startEmulator({ port: 0 });
      try {
        const planFile = join(dir, 'x.plan');
        const saved = await run(['plan', '--source', 'fixtures/contoso', '--allow-missing-seeds', '--graph-url', emu.url, '--out', planFile], ['ignore', 'pipe', full]);
        expect(saved.code).toBe(0);
        expect(existsSync(planFile)).toBe(true);
        // Lost output is a failure even where the command would have said "changes" (2), and what comes
        // after the output (the --report) is still written (a review: it waited for a drain that never came).
        const report = join(dir, 'r.html');
        const json = await run(['plan', '--source', 'fixtures/contoso', '--allow-missing-seeds', '--graph-url', emu.url, '--detailed-exitcode', '--format', 'json', '--report', report], ['ignore', full, 'pipe']);
        expect(json.code).toBe(1);
        expect(existsSync(report)).toBe(true);
        expect(json.stderr).toContain(`Mapping report written to ${report}`);
      } finally {
        await emu.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      closeSync(full);
    }
  });
});
