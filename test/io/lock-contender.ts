/**
 * A lock contender run as its own process by test/io/lock-races.test.ts (bundled there with rolldown):
 * takes the apply lock or the shim's store lock through their public entry points, the way the CLI
 * does, and reports on stdout as one JSON line.
 *
 *   contend <apply|store> <spec json>   at each instant spec.goAt[i], try spec.targets[i]; hold spec.holdMs
 *   hold <apply|store> <targets json>   take every target, print "held", then wait to be killed
 *   half <path> <ms>                    create path, write half a lock, print "ready", finish after ms, wait
 */
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock } from '../../src/apply/state-lock.js';
import { readLockState } from '../../src/io/file-lock.js';
import { lockPathOf, StoreLock } from '../../src/shim/store-lock.js';

type Kind = 'apply' | 'store';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function take(kind: Kind, target: string): Promise<{ release(): Promise<void> }> {
  return kind === 'apply' ? acquireLock(target, 'apply') : StoreLock.acquire(target, 'shim serve');
}

/** Sleeps until the instant, then spins the last milliseconds so that contenders start together. */
async function until(at: number): Promise<void> {
  const ahead = at - Date.now() - 5;
  if (ahead > 0) await sleep(ahead);
  while (Date.now() < at) {
    // spin
  }
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'contend') {
  const spec = JSON.parse(b!) as { targets: string[]; goAt: number[]; holdMs: number };
  // Times (ms since the epoch, fractional) let the test tell a race (overlapping holds) from a late start under load.
  const results: { got: boolean; error?: string; triedAt: number; gotAt?: number; releasedAt?: number; kept?: boolean }[] = [];
  const now = (): number => performance.timeOrigin + performance.now();
  for (let i = 0; i < spec.targets.length; i++) {
    await until(spec.goAt[i]!);
    const triedAt = now();
    try {
      const lock = await take(a as Kind, spec.targets[i]!);
      const gotAt = now();
      await sleep(spec.holdMs);
      // Taken before the release: the other contender must not hold it in between.
      const releasedAt = now();
      // Still this process's lock at the end of its hold: not removed or replaced by the other.
      const held = readLockState(a === 'apply' ? join(spec.targets[i]!, 'lock') : lockPathOf(spec.targets[i]!));
      const kept = held.kind === 'held' && held.holder.pid === process.pid;
      await lock.release();
      results.push({ got: true, triedAt, gotAt, releasedAt, kept });
    } catch (err) {
      results.push({ got: false, error: `${(err as Error).name}: ${(err as Error).message}`, triedAt });
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else if (mode === 'hold') {
  for (const target of JSON.parse(b!) as string[]) await take(a as Kind, target);
  process.stdout.write('held\n');
  setInterval(() => undefined, 60_000);
} else if (mode === 'half') {
  const record = JSON.stringify({ id: 'being-written', operation: 'apply', pid: process.pid, host: hostname(), user: 'someone', started: new Date().toISOString() });
  const handle = await open(a!, 'wx', 0o600);
  await handle.write(record.slice(0, 20));
  process.stdout.write('ready\n');
  await sleep(Number(b));
  await handle.write(`${record.slice(20)}\n`);
  await handle.close();
  process.stdout.write('written\n');
  setInterval(() => undefined, 60_000);
}
