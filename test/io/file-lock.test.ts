import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forceUnlock, inspectLock, acquireLock, LockHeldError } from '../../src/apply/state-lock.js';
import { FileLock, LockBusyError, LockContendedError, LockIdMismatchError, LockIsLinkError, LockUnreadableError, forceRemoveLock, readLockState } from '../../src/io/file-lock.js';
import { identityAlive, ownIdentity, processState } from '../../src/io/process-start.js';
import { tempDir } from '../shim/helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = (): string => {
  const dir = tmp.path(`d${n++}`);
  mkdirSync(dir);
  return dir;
};

/** The pid of a process that has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('process identity', () => {
  it('records this process with its start, and tells a dead pid, a zombie and a reused pid from a live holder', async () => {
    const me = ownIdentity();
    expect(me).toMatchObject({ pid: process.pid, host: hostname() });
    expect(me.processStart).toMatch(/^[0-9a-f-]{36}:\d+$/);
    expect(identityAlive(me)).toBe(true);
    expect(identityAlive({ ...me, processStart: me.processStart!.replace(/\d+$/, '1') })).toBe(false);
    expect(identityAlive({ pid: deadPid(), host: hostname() })).toBe(false);
    expect(identityAlive({ pid: deadPid(), host: `not-${hostname()}` })).toBe(true);
    // A zombie: its parent never reaps it (python forks and sleeps; a shell could reap its background
    // child before exec, and then there was no zombie at all). kill(pid, 0) still succeeds on it.
    const sh = spawn('/usr/bin/python3', ['-c', 'import os, sys, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(5)']);
    const zombie = Number(await new Promise<string>((resolve) => sh.stdout.once('data', (c: Buffer) => resolve(c.toString()))));
    // Up to 4 s for sh to run sleep 0 and exec (a loaded machine can take a while).
    for (let i = 0; i < 400 && !readFileSync(`/proc/${zombie}/stat`, 'latin1').includes(') Z '); i++) await new Promise((r) => setTimeout(r, 10));
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(processState(zombie)).toEqual({ running: false });
    sh.kill('SIGKILL');
  });
});

describe('FileLock', () => {
  it('is exclusive while held, leaves nothing behind when released, and keeps its id across update()', async () => {
    const path = join(fresh(), 'lock');
    const lock = await FileLock.acquire(path, { what: 'first' });
    expect(lock.record).toMatchObject({ what: 'first', pid: process.pid, host: hostname() });
    expect(lock.tookOver).toBeUndefined();
    const err = await FileLock.acquire(path, { what: 'second' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBusyError);
    expect((err as LockBusyError<{ what: string }>).holder).toEqual(lock.record);
    expect(await lock.update({ what: 'updated' })).toBe(true);
    expect(readLockState(path)).toEqual({ kind: 'held', holder: { ...lock.record, what: 'updated' }, alive: true });
    await lock.release();
    expect(readdirSync(join(path, '..'))).toEqual([]);
    (await FileLock.acquire(path, {})).releaseSync();
    expect(readdirSync(join(path, '..'))).toEqual([]);
  });

  it('release() and update() leave a lock that is no longer theirs alone', async () => {
    const path = join(fresh(), 'lock');
    const lock = await FileLock.acquire(path, {});
    await forceRemoveLock(path, lock.record.id);
    const other = await FileLock.acquire(path, { who: 'other' });
    expect(await lock.update({})).toBe(false);
    await lock.release();
    lock.releaseSync();
    expect(readLockState(path)).toMatchObject({ kind: 'held', holder: { id: other.record.id } });
    await other.release();
  });

  it('passes over a claim whose claimant died, and sweeps the files dead processes left', async () => {
    const dir = fresh();
    const path = join(dir, 'lock');
    const dead = { id: 'dead-holder', pid: deadPid(), host: hostname() };
    writeFileSync(path, JSON.stringify(dead));
    // A claimant that died half-way through taking the dead holder's lock over, and a temporary file of another.
    const claim = `${path}.claim-${createHash('sha256').update('dead-holder').digest('hex').slice(0, 16)}-0`;
    writeFileSync(claim, JSON.stringify({ id: 'claimant', pid: deadPid(), host: hostname() }));
    writeFileSync(`${path}.0123456789abcdef.tmp`, JSON.stringify({ id: 'x', pid: deadPid(), host: hostname() }));
    const lock = await FileLock.acquire(path, {});
    expect(lock.tookOver).toEqual(dead);
    expect(readdirSync(dir)).toEqual(['lock']);
    await lock.release();
  });

  it('waits for a claim held by a live process, then gives up with LockContendedError', async () => {
    const dir = fresh();
    const path = join(dir, 'lock');
    writeFileSync(path, JSON.stringify({ id: 'dead-holder', pid: deadPid(), host: hostname() }));
    const claim = `${path}.claim-${createHash('sha256').update('dead-holder').digest('hex').slice(0, 16)}-0`;
    writeFileSync(claim, JSON.stringify({ id: 'claimant', ...ownIdentity() }));
    const started = Date.now();
    await expect(FileLock.acquire(path, {}, { graceMs: 300 })).rejects.toBeInstanceOf(LockContendedError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(JSON.parse(readFileSync(path, 'utf8')).id).toBe('dead-holder');
  });

  it('an unreadable lock: waited for while young, then refused and left as it is', async () => {
    const path = join(fresh(), 'lock');
    writeFileSync(path, '{"id":"half');
    const started = Date.now();
    const err = await FileLock.acquire(path, {}, { graceMs: 400 }).catch((e: unknown) => e);
    // It waited until the file was 400 ms old (it was written a moment before the attempt).
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(err).toBeInstanceOf(LockUnreadableError);
    expect((err as Error).message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe('{"id":"half');
    // Its id names exactly this content: force-unlock removes it, and only it.
    const id = (err as LockUnreadableError).lockId;
    expect(readLockState(path)).toMatchObject({ kind: 'unreadable', id });
    await expect(forceRemoveLock(path, 'unreadable-000000000000')).rejects.toBeInstanceOf(LockIdMismatchError);
    expect(await forceRemoveLock(path, id)).toMatchObject({ kind: 'unreadable', id });
    expect(readLockState(path)).toEqual({ kind: 'free' });
  });

  it('a lock that is a symbolic link, dangling or not, is refused at once, naming it, and left as it is (a dangling one made acquire spin for ever)', async () => {
    const dir = fresh();
    const target = join(dir, 'elsewhere');
    writeFileSync(target, JSON.stringify({ id: 'x', pid: process.pid, host: hostname() }));
    for (const [name, to] of [['dangling', join(dir, 'nothing-here')], ['pointing', target]] as const) {
      const path = join(dir, `${name}.lock`);
      symlinkSync(to, path);
      const err = await FileLock.acquire(path, {}, { graceMs: 400 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockIsLinkError);
      expect((err as Error).message).toBe(`${path} is a symbolic link, not a lock: refused (a lock is never read or taken through a link); remove it if nothing of yours put it there`);
      expect(readlinkSync(path)).toBe(to);
    }
    // Nothing left behind by the attempts (their temporary files).
    expect(readdirSync(dir).sort()).toEqual(['dangling.lock', 'elsewhere', 'pointing.lock']);
  });
});

describe('force-unlock of the state directory', () => {
  it('shows the holder, refuses another id, removes the lock with its id and returns its holder', async () => {
    const dir = fresh();
    const held = await acquireLock(dir, 'apply');
    await held.setRun('20261127T080000Z-aaaaaaaa');
    const state = inspectLock(dir);
    expect(state).toMatchObject({ kind: 'held', alive: true, holder: { id: held.info.id, operation: 'apply', runId: '20261127T080000Z-aaaaaaaa' } });
    await expect(forceUnlock(dir, 'not-the-id')).rejects.toThrow(`the lock of ${dir} is ${held.info.id}, not not-the-id: nothing removed`);
    const removed = await forceUnlock(dir, held.info.id);
    expect(removed).toEqual({ ...held.info, runId: '20261127T080000Z-aaaaaaaa' });
    expect(inspectLock(dir)).toEqual({ kind: 'free' });
    await expect(forceUnlock(dir, held.info.id)).rejects.toThrow(`${dir} is not locked`);
    // The lock is free for the next run; the old holder's release does not remove it.
    const next = await acquireLock(dir, 'resume');
    await held.release();
    await expect(acquireLock(dir, 'apply')).rejects.toBeInstanceOf(LockHeldError);
    await next.release();
  });

  it('an unreadable state-directory lock is refused with an error naming it and its id; force-unlock takes that id', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'lock'), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'lock'), old, old);
    const err = (await acquireLock(dir, 'apply').catch((e: unknown) => e)) as LockUnreadableError;
    expect(err).toBeInstanceOf(LockUnreadableError);
    expect(err.message).toContain(join(dir, 'lock'));
    expect(err.message).toContain(err.lockId);
    expect(await forceUnlock(dir, err.lockId)).toMatchObject({ id: err.lockId, unreadable: true });
    await (await acquireLock(dir, 'apply')).release();
  });
});
