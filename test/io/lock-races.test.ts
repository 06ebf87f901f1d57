import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'rolldown';
import { acquireLock, readLock } from '../../src/apply/state-lock.js';
import { runImportStore } from '../../src/shim/shim-operations.js';
import { StoreLock, lockPathOf } from '../../src/shim/store-lock.js';
import { CLI } from '../helpers/fresh-bundle.js';
import { RFC_SEED_SHA1, TEST_KEY, TEST_KEY_B64, seed, tempDir } from '../shim/helpers.js';

/**
 * The lock races of issue 17 item 1, with real processes: contenders are separate node processes
 * (test/io/lock-contender.ts, bundled here) or the CLI itself, started together, many times.
 */

let tmp: ReturnType<typeof tempDir>;
let contender: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  tmp = tempDir();
  const out = tmp.path('contender');
  await build({
    input: { contender: join(import.meta.dirname, 'lock-contender.ts') },
    platform: 'node',
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    logLevel: 'silent',
    output: { dir: out, format: 'esm', entryFileNames: '[name].mjs' },
  });
  contender = join(out, 'contender.mjs');
}, 60_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  tmp.cleanup();
});

function start(args: string[]): { child: ChildProcess; stdout: () => string; exited: Promise<number | null>; line: (text: string) => Promise<void> } {
  const child = spawn(process.execPath, [contender, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    for (const w of waiters) if (out.includes(w.text)) w.resolve();
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (out.includes(text)) return resolve();
      waiters.push({ text, resolve });
      void exited.then(() => reject(new Error(`contender exited before "${text}": ${err}`)));
    });
  return { child, stdout: () => out, exited, line };
}

/** A holder that dies without releasing: takes every target, then is killed with SIGKILL. */
async function deadHolder(kind: 'apply' | 'store', targets: string[]): Promise<number> {
  const holder = start(['hold', kind, JSON.stringify(targets)]);
  await holder.line('held');
  holder.child.kill('SIGKILL');
  await holder.exited;
  return holder.child.pid!;
}

/** Rounds of two contenders racing for a dead holder's lock; returns the winners per round. */
/** More rounds with MFA_SLOW_TESTS=1 (npm run test:slow); the quick run still catches the old races (they showed in half the rounds). */
const ROUNDS = process.env.MFA_SLOW_TESTS === '1' ? 30 : 10;

async function race(kind: 'apply' | 'store', rounds: number): Promise<{ winners: number[]; errors: string[] }> {
  const base = tmp.path(`race-${kind}`);
  const targets = Array.from({ length: rounds }, (_, i) => (kind === 'apply' ? join(base, `state-${i}`) : join(base, `store-${i}`)));
  mkdirSync(base, { recursive: true });
  await deadHolder(kind, targets);
  const first = Date.now() + 1500;
  const spec = JSON.stringify({ targets, goAt: targets.map((_, i) => first + i * 150), holdMs: 80 });
  const contenders = [start(['contend', kind, spec]), start(['contend', kind, spec])];
  await Promise.all(contenders.map((c) => c.exited));
  const results = contenders.map((c) => JSON.parse(c.stdout()) as Attempt[]);
  return {
    winners: targets.map((_, i) => winnersOf(results.map((r) => r[i]!))),
    errors: results.flatMap((r) => r.filter((x) => !x.got).map((x) => x.error!)),
  };
}

interface Attempt {
  got: boolean;
  error?: string;
  triedAt: number;
  gotAt?: number;
  releasedAt?: number;
  /** The lock was still the holder's own at the end of its hold. */
  kept?: boolean;
}

/**
 * How many took the lock in a round while the other could have: two holders whose hold times
 * overlap, or a holder whose lock the other removed or replaced meanwhile, count 2. A second holder
 * that took the lock after the first had released it, the first's lock intact, is no race and
 * counts as one, even if it began trying before: under load a contender was seen to try 5 ms before
 * the other and take the lock 100 ms after the other's 80 ms hold (its claim waits and fsyncs slowed).
 */
function winnersOf(round: Attempt[]): number {
  const held = round.filter((a) => a.got).sort((x, y) => x.gotAt! - y.gotAt!);
  if (held.some((a) => !a.kept)) return 2;
  if (held.length < 2) return held.length;
  const [first, second] = held as [Attempt, Attempt];
  return second.gotAt! < first.releasedAt! ? 2 : 1;
}

describe.concurrent('two contenders for a dead holder\'s lock (issue 17 item 1)', () => {
  it('apply lock: exactly one of them takes it, in every round', async () => {
    const { winners, errors } = await race('apply', ROUNDS);
    expect(winners).toEqual(winners.map(() => 1));
    for (const e of errors) expect(e).toMatch(/^LockHeldError: the state directory is in use by apply/);
  }, 60_000);

  it('store lock: exactly one of them takes it, in every round', async () => {
    const { winners, errors } = await race('store', ROUNDS);
    expect(winners).toEqual(winners.map(() => 1));
    for (const e of errors) expect(e).toMatch(/^StoreBusyError: .* is in use by `mfa-migrate shim serve`/);
  }, 60_000);
});

describe('a stale store lock and two `shim serve` started at once (issue 17 item 1)', () => {
  /** Starts `shim serve`; resolves true once it listens, false if it exits first. */
  function serve(store: string): { listening: Promise<boolean>; child: ChildProcess; exited: Promise<unknown> } {
    const child = spawn(process.execPath, [CLI, 'shim', 'serve', '--store', store, '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', MFA_SHIM_KEY: TEST_KEY_B64 },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const listening = new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('listening on')) resolve(true);
      });
      void exited.then(() => resolve(false));
    });
    return { listening, child, exited };
  }

  it('exactly one listens, every time', async () => {
    const store = tmp.path('serve.store');
    await runImportStore({
      store,
      key: TEST_KEY,
      input: { users: [{ username: 'ivan@contoso.com', enabled: true }], tokens: [{ seed: seed({ serial: '1', secret: RFC_SEED_SHA1, type: 'hotp' }), user: 'ivan@contoso.com' }] },
    });
    const listeners: number[] = [];
    for (let attempt = 0; attempt < (process.env.MFA_SLOW_TESTS === '1' ? 20 : 8); attempt++) {
      await deadHolder('store', [store]);
      const servers = [serve(store), serve(store)];
      const up = await Promise.all(servers.map((s) => s.listening));
      listeners.push(up.filter(Boolean).length);
      for (const s of servers) s.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => s.exited));
    }
    expect(listeners).toEqual(listeners.map(() => 1));
  }, 120_000);
});

describe('locks that must not be taken over', () => {
  it('a young unreadable lock (another process half-way through writing it) is left alone', async () => {
    const dir = tmp.path('half');
    mkdirSync(dir);
    const writer = start(['half', join(dir, 'lock'), '1000']);
    await writer.line('ready');
    const err = await acquireLock(dir, 'apply').then(
      async (lock) => {
        await lock.release();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    // It waited for the writer to finish and then saw a live holder.
    expect(err, 'the half-written lock was taken over').toBeInstanceOf(Error);
    expect(err?.message).toMatch(/in use by apply \(lock being-written\)/);
    await writer.line('written');
    expect((await readLock(join(dir, 'lock')))?.id).toBe('being-written');
    writer.child.kill('SIGKILL');
  }, 30_000);

  for (const kind of ['apply', 'store'] as const) {
    it(`a garbage ${kind} lock is not taken over; the error names the file`, async () => {
      const dir = tmp.path(`garbage-${kind}`);
      mkdirSync(dir);
      const path = kind === 'apply' ? join(dir, 'lock') : lockPathOf(join(dir, 'shim.store'));
      writeFileSync(path, 'garbage, not a lock\n');
      const old = new Date(Date.now() - 60_000);
      utimesSync(path, old, old);
      const attempt = kind === 'apply' ? acquireLock(dir, 'apply') : StoreLock.acquire(join(dir, 'shim.store'), 'shim serve');
      const err = await attempt.then(
        async (lock) => {
          await lock.release();
          return undefined;
        },
        (e: unknown) => e as Error,
      );
      expect(err, 'the garbage lock was taken over').toBeInstanceOf(Error);
      expect(err?.message).toContain(path);
      expect(err?.message).toMatch(/unreadable/);
      expect(readFileSync(path, 'utf8')).toBe('garbage, not a lock\n');
    });
  }

  it('a PID now used by another process is not mistaken for the holder', async () => {
    const dir = tmp.path('reused');
    const pid = await deadHolder('apply', [dir]);
    const recorded = readFileSync(join(dir, 'lock'), 'utf8');
    // Another process with the holder's pid: the kernel hands out the pid after ns_last_pid (root);
    // where that cannot be set, the lock is pointed at a live process instead (the same situation).
    let other: ChildProcess | undefined;
    for (let i = 0; i < 50 && !other; i++) {
      try {
        writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      } catch {
        break;
      }
      const child = spawn('sleep', ['60']);
      children.push(child);
      if (child.pid === pid) other = child;
      else child.kill('SIGKILL');
    }
    if (!other) {
      other = spawn('sleep', ['60']);
      children.push(other);
      writeFileSync(join(dir, 'lock'), recorded.replace(`"pid":${pid}`, `"pid":${other.pid}`));
    }
    expect(existsSync(`/proc/${other.pid}`)).toBe(true);
    const lock = await acquireLock(dir, 'resume');
    expect(lock.tookOver?.pid).toBe(other.pid);
    expect(lock.tookOver?.host).toBe(hostname());
    await lock.release();
    other.kill('SIGKILL');
  });
});
