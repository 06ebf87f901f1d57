import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotpCode } from '../../src/otp/hotp.js';
import { lockPathOf } from '../../src/shim/store-lock.js';
import { journalPathOf } from '../../src/shim/shim-database.js';
import { verify } from './http-client.js';
import { runCli, runMain, startServeProcess } from './cli-process.js';
import { importIvanStore, RFC_SEED_SHA1, TEST_KEY_B64, tempDir } from './helpers.js';

const H = (c: number): string => hotpCode(RFC_SEED_SHA1, 'sha1', c, 6);
const env = { MFA_SHIM_KEY: TEST_KEY_B64 };

let tmp: ReturnType<typeof tempDir>;
let store: string;
beforeEach(async () => {
  tmp = tempDir();
  store = tmp.path('shim.store');
  await importIvanStore(store);
});
afterEach(() => tmp.cleanup());

describe('mfa-migrate shim (CLI)', () => {
  it('has --help with examples for every subcommand', async () => {
    for (const sub of [[], ['serve'], ['check'], ['unlock'], ['import']]) {
      const r = await runMain(['shim', ...sub, '--help']);
      expect(r.status, sub.join(' ')).toBe(0);
      expect(r.stdout, sub.join(' ')).toMatch(/Examples:\n(\s+\$ .*\n)*?\s+\$ mfa-migrate shim/);
    }
  });

  it('check: prints the verdict, exit 0 on accept and 1 on reject; reads the code from stdin with "-"', async () => {
    const ok = await runMain(['shim', 'check', '--store', store, '--user', 'IVAN@contoso.com', '--code', H(0)], env);
    expect(ok).toMatchObject({ status: 0, stdout: '{"result":"accept","reason":"ok"}\n' });
    const again = await runMain(['shim', 'check', '--store', store, '--user', 'ivan@contoso.com', '--code', H(0)], env);
    expect(again).toMatchObject({ status: 1, stdout: '{"result":"reject","reason":"replayed"}\n' });
    const stdin = runCli(['shim', 'check', '--store', store, '--user', 'ivan@contoso.com', '--code', '-'], { env, input: `${H(1)}\n` });
    expect(stdin).toMatchObject({ status: 0, stdout: '{"result":"accept","reason":"ok"}\n' });
    const audit = readFileSync(`${store}.audit.jsonl`, 'utf8');
    expect(audit).toContain('"client":"shim check"');
    expect(audit).not.toContain(H(0));
  });

  it("import: the export's warnings and errors are notes like the shim's others, `mfa-migrate shim: warning: ...` (a black-box test saw them bare)", async () => {
    const contoso = fileURLToPath(new URL('../../fixtures/contoso/', import.meta.url));
    const r = await runMain(['shim', 'import', '--source', contoso, '--tokens', `${contoso}tokens/seeds.pskc`, '--store', tmp.path('c.store'), '--force'], env);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines.filter((l) => l.includes('[seed-unassigned]'))).not.toEqual([]);
    for (const line of lines) expect(line).toMatch(/^mfa-migrate shim: (warning|error): /);
  });

  it('check and unlock: lock out (with --max-fails), unlock, accept', async () => {
    for (let i = 0; i < 2; i++) await runMain(['shim', 'check', '--max-fails', '2', '--store', store, '--user', 'ivan@contoso.com', '--code', '000000'], env);
    expect((await runMain(['shim', 'check', '--max-fails', '2', '--store', store, '--user', 'ivan@contoso.com', '--code', H(0)], env)).stdout).toContain('locked_out');
    const unlock = await runMain(['shim', 'unlock', 'Ivan@Contoso.com', '--store', store], env);
    expect(unlock).toMatchObject({ status: 0, stdout: 'ivan@contoso.com unlocked\n' });
    expect((await runMain(['shim', 'check', '--store', store, '--user', 'ivan@contoso.com', '--code', H(0)], env)).status).toBe(0);
    const unknown = await runMain(['shim', 'unlock', 'nobody@contoso.com', '--store', store], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no user nobody@contoso.com in the store/);
  });

  it('explains a missing or wrong key and a bad flag on stderr, exit 1', async () => {
    const noKey = await runMain(['shim', 'check', '--store', store, '--user', 'ivan@contoso.com', '--code', H(0)], { MFA_SHIM_KEY: undefined });
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toMatch(/no store key: set MFA_SHIM_KEY/);
    const wrong = await runMain(['shim', 'check', '--store', store, '--user', 'ivan@contoso.com', '--code', H(0)], { MFA_SHIM_KEY: Buffer.alloc(32, 1).toString('base64') });
    expect(wrong.stderr).toMatch(/encrypted with another key/);
    const badFlag = await runMain(['shim', 'serve', '--store', store, '--port', 'x'], env);
    expect(badFlag.status).toBe(1);
    expect(badFlag.stderr).toMatch(/--port.*whole number/);
    const exposed = await runMain(['shim', 'serve', '--store', store, '--host', '0.0.0.0', '--port', '0'], env);
    expect(exposed.status).toBe(1);
    expect(exposed.stderr).toMatch(/not loopback\) requires an API key \(--api-key-file\) and TLS/);
  });
});

describe('shim serve (process)', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const serve = async () => {
    const s = await startServeProcess(['--store', store, '--port', '0'], env);
    children.push(s.child);
    return s;
  };

  it('never reopens a replay window or forgets a lock-out across kill -9', async () => {
    let s = await serve();
    expect((await verify(s.url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'accept', reason: 'ok' });
    for (let i = 0; i < 3; i++) await verify(s.url, 'ivan@contoso.com', '000000');
    s.child.kill('SIGKILL');
    await s.exited;

    s = await serve();
    expect((await verify(s.url, 'ivan@contoso.com', H(0))).json).toEqual({ result: 'reject', reason: 'replayed' });
    for (let i = 0; i < 7; i++) expect((await verify(s.url, 'ivan@contoso.com', '000000')).json).toMatchObject({ reason: 'wrong_code' });
    // 3 + 7 = 10 failures (the exact replay is none): locked, and that survives another crash.
    s.child.kill('SIGKILL');
    await s.exited;

    s = await serve();
    expect((await verify(s.url, 'ivan@contoso.com', H(1))).json).toEqual({ result: 'reject', reason: 'locked_out' });
    // While it runs, check refuses (the server owns the state) and unlock is handed over.
    const busy = await runMain(['shim', 'check', '--store', store, '--user', 'ivan@contoso.com', '--code', H(1)], env);
    expect(busy.status).toBe(1);
    expect(busy.stderr).toMatch(/in use by `mfa-migrate shim serve`/);
    const unlock = await runMain(['shim', 'unlock', 'ivan@contoso.com', '--store', store], env);
    expect(unlock.stdout).toMatch(/handed to the running server/);
    expect((await verify(s.url, 'ivan@contoso.com', H(1))).json).toEqual({ result: 'accept', reason: 'ok' });

    // SIGHUP (a closed terminal, systemd's reload) does not end it: it reloads what it can and serves on.
    s.child.kill('SIGHUP');
    for (let i = 0; i < 50 && !s.stderr().includes('still serving'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.stderr()).toContain(`SIGHUP: audit log reopened at ${store}.audit.jsonl`);
    expect(s.stderr()).toContain('SIGHUP: no RADIUS files to reload (RADIUS is off); still serving');
    expect((await verify(s.url, 'ivan@contoso.com', H(2))).json).toEqual({ result: 'accept', reason: 'ok' });

    // SIGTERM: clean stop, state compacted into the store, lock released.
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(existsSync(lockPathOf(store))).toBe(false);
    const journal = readFileSync(journalPathOf(store), 'latin1');
    expect(journal.slice(0, journal.indexOf('\0')).trim().split('\n')).toHaveLength(1);
    const after = await runMain(['shim', 'check', '--store', store, '--user', 'ivan@contoso.com', '--code', H(2)], env);
    expect(after.stdout).toContain('replayed');
  });
});
