import { isOutOfRoom } from './fs-reason.js';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../model/user-error.js';
import { writeFileSyncedSync } from './fsync.js';
import { identityAlive, ownIdentity, type ProcessIdentity } from './process-start.js';

/**
 * One process at a time: the lock of the apply state directory and of the shim's store.
 *
 * Built on exclusive creation and atomic replacement, not on an OS advisory lock: Node has no
 * flock()/fcntl() (only native add-ons, which the project avoids), and a lock file also tells the
 * admin who holds it. The rules:
 *
 * - A lock is created complete: the record is written to a temporary file and fsynced, then
 *   hard-linked to the lock's name (link() fails if the name exists: the exclusive create). A reader
 *   never sees half a lock written by this code.
 * - Whoever removes or replaces a lock with id X (taking over a dead holder's lock, releasing one's
 *   own, rewriting it, force-unlock) first takes the claim on X: a file `<lock>.claim-<hash of X>-<n>`
 *   created exclusively (link again), holding the claimant's identity. Only then does it re-read the
 *   lock and, if it still has id X, act. So two contenders for a dead holder's lock cannot both
 *   replace it: one gets the claim, the other waits and then finds the new, live holder. A claim
 *   whose claimant died is passed over by claiming level n+1 (at most one claimant per level).
 * - A holder is alive when its pid runs with the recorded process start time (a reused pid is not
 *   the holder); a holder on another host is assumed alive.
 * - A lock that cannot be read is never removed or taken over: while younger than the grace period
 *   it is waited for (another process's half-written one, from an older version or another tool);
 *   after that it is refused with LockUnreadableError, naming the file and an id for force-unlock.
 */

/** A lock's record: who holds it (the identity) and what the caller adds (operation, times, ...). */
export type LockRecord<T extends object> = T & ProcessIdentity & { id: string };

export type LockState<T extends object> =
  | { kind: 'free' }
  | { kind: 'held'; holder: LockRecord<T>; alive: boolean }
  | { kind: 'unreadable'; id: string; ageMs: number };

export interface LockOptions {
  /** How long an unreadable lock, or a claim, is waited for before it is judged (default 5 s). */
  graceMs?: number;
  mode?: number;
}

const DEFAULT_GRACE_MS = 5_000;
const POLL_MS = 20;
const MAX_CLAIM_LEVELS = 16;

/** The lock is held by a live process (or by one on another host). */
export class LockBusyError<T extends object = object> extends UserError {
  constructor(
    readonly path: string,
    readonly holder: LockRecord<T>,
  ) {
    super(`${path} is held by pid ${holder.pid} on ${holder.host} (lock ${holder.id})`);
  }
}

/** The lock file cannot be read: it is left alone; the admin decides. */
export class LockUnreadableError extends UserError {
  constructor(
    readonly path: string,
    readonly lockId: string,
    readonly ageMs: number,
  ) {
    super(
      `${path}: the lock file is unreadable (not a lock this tool wrote, or damaged; ${Math.round(ageMs / 1000)} s old) and is not taken over; if no mfa-migrate process is using it, remove it (lock id ${lockId})`,
    );
  }
}

/** The lock's name is a symbolic link: never followed, never taken over (whoever planted it could point it anywhere). */
export class LockIsLinkError extends UserError {
  constructor(readonly path: string) {
    super(`${path} is a symbolic link, not a lock: refused (a lock is never read or taken through a link); remove it if nothing of yours put it there`);
  }
}

/** Another process has been changing the lock for longer than the grace period (stopped half-way?). */
export class LockContendedError extends UserError {
  constructor(
    readonly path: string,
    claimant: ProcessIdentity,
  ) {
    super(`${path}: pid ${claimant.pid} on ${claimant.host} is changing the lock and has not finished; try again`);
  }
}

/** force-unlock was given an id that is not the lock's. */
export class LockIdMismatchError extends UserError {
  constructor(
    path: string,
    readonly wanted: string,
    /** The lock's id; undefined when there is no lock. */
    readonly actual: string | undefined,
  ) {
    super(actual === undefined ? `${path}: there is no lock (${wanted} was released or removed)` : `${path}: the lock's id is ${actual}, not ${wanted}`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The id force-unlock takes for an unreadable lock: derived from its bytes, so it names exactly that content. */
function unreadableId(bytes: Buffer): string {
  return `unreadable-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
}

function parseRecord<T extends object>(bytes: Buffer): LockRecord<T> | undefined {
  try {
    const r = JSON.parse(bytes.toString('utf8')) as Partial<LockRecord<T>> | null;
    if (r && typeof r === 'object' && typeof r.id === 'string' && r.id !== '' && Number.isSafeInteger(r.pid) && typeof r.host === 'string') {
      return r as LockRecord<T>;
    }
  } catch {
    // not JSON: unreadable
  }
  return undefined;
}

/** The lock's state now. */
export function readLockState<T extends object>(path: string): LockState<T> {
  let fd: number;
  try {
    // Not through a link: a dangling one read as free, while the exclusive create met it as taken,
    // and acquire went round that loop at full speed for ever (a black-box test).
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'free' };
    if (code === 'ELOOP') throw new LockIsLinkError(path);
    throw err;
  }
  let bytes: Buffer;
  let mtimeMs: number;
  try {
    mtimeMs = fstatSync(fd).mtimeMs;
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  const holder = parseRecord<T>(bytes);
  if (holder) return { kind: 'held', holder, alive: identityAlive(holder) };
  return { kind: 'unreadable', id: unreadableId(bytes), ageMs: Math.max(0, Date.now() - mtimeMs) };
}

const stateId = (state: LockState<object>): string | undefined => (state.kind === 'held' ? state.holder.id : state.kind === 'unreadable' ? state.id : undefined);

/**
 * Gives `target` the content of `source` only if `target` does not exist yet (true), else false.
 * A hard link does it atomically; on a file system without hard links, an exclusive create and a
 * copy (a reader may then briefly see a partial file, which the grace period covers).
 */
function createExclusive(source: string, target: string, mode: number): boolean {
  try {
    linkSync(source, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  try {
    writeFileSyncedSync(target, readFileSync(source), { mode, exclusive: true });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** A temporary file beside the lock holding `content`, fsynced (so a crash never leaves an empty lock). */
function writeTemp(path: string, content: object, mode: number): string {
  const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    writeFileSyncedSync(temp, `${JSON.stringify(content)}\n`, { mode, exclusive: true });
  } catch (err) {
    // A full disk leaves the file made and empty: not left behind.
    unlinkQuietly(temp);
    throw err;
  }
  return temp;
}

const claimName = (path: string, id: string, level: number): string => `${path}.claim-${createHash('sha256').update(id).digest('hex').slice(0, 16)}-${level}`;

type ClaimAttempt = { claimed: string[] } | { busy: ProcessIdentity | undefined };

/**
 * Tries to take the claim on lock id `id` (see the module comment). On success returns the claim
 * files to remove when done (ours and the dead claimants' below it).
 */
function tryClaim(path: string, id: string, me: ProcessIdentity, graceMs: number, mode: number): ClaimAttempt {
  const temp = writeTemp(path, me, mode);
  try {
    const passed: string[] = [];
    for (let level = 0, retries = 0; level < MAX_CLAIM_LEVELS; level++) {
      const name = claimName(path, id, level);
      if (createExclusive(temp, name, mode)) return { claimed: [name, ...passed] };
      const other = readLockState<object>(name);
      if (other.kind === 'free') {
        if (++retries > 100) return { busy: undefined };
        level--; // released just now: try this level again
        continue;
      }
      if (other.kind === 'held' && other.alive) return { busy: other.holder };
      if (other.kind === 'unreadable' && other.ageMs < graceMs) return { busy: undefined };
      passed.push(name); // its claimant died: pass over it
    }
    throw new Error(`${path}: ${MAX_CLAIM_LEVELS} abandoned claims on lock ${id}; remove ${path}.claim-* by hand`);
  } finally {
    unlinkQuietly(temp);
  }
}

/**
 * Runs `action` holding the claim on lock id `id`, waiting up to graceMs for another claimant;
 * `action` must re-read the lock before changing it.
 */
async function withClaim<R>(path: string, id: string, me: ProcessIdentity, options: Required<LockOptions>, action: () => R): Promise<R> {
  const until = Date.now() + options.graceMs;
  for (;;) {
    const attempt = tryClaim(path, id, me, options.graceMs, options.mode);
    if ('claimed' in attempt) {
      try {
        return action();
      } finally {
        for (const name of attempt.claimed) unlinkQuietly(name);
      }
    }
    if (Date.now() >= until) throw new LockContendedError(path, attempt.busy ?? { pid: 0, host: 'unknown' });
    await sleep(POLL_MS);
  }
}

/** Removes temporary and claim files left beside the lock by processes that died half-way. */
function sweepLeftovers(path: string, graceMs: number): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (!/^[0-9a-f]{16}\.tmp$/.test(rest) && !/^claim-[0-9a-f]{16}-\d+$/.test(rest)) continue;
    const file = join(dir, name);
    const state = readLockState<object>(file);
    if ((state.kind === 'held' && !state.alive) || (state.kind === 'unreadable' && state.ageMs >= graceMs)) unlinkQuietly(file);
  }
}

/** A lock this process holds. */
export class FileLock<T extends object> {
  #record: LockRecord<T>;
  readonly #options: Required<LockOptions>;

  private constructor(
    readonly path: string,
    record: LockRecord<T>,
    options: Required<LockOptions>,
    /** The dead holder whose lock was taken over, if any. */
    readonly tookOver: LockRecord<T> | undefined,
  ) {
    this.#record = record;
    this.#options = options;
  }

  get record(): LockRecord<T> {
    return this.#record;
  }

  /**
   * Takes the lock at `path`, recording `fields` with this process's identity. A live holder:
   * LockBusyError. A dead holder's lock (its process gone, or its pid now another process's) is
   * taken over. An unreadable lock: waited for while young, then LockUnreadableError.
   */
  static async acquire<T extends object>(path: string, fields: T, options: LockOptions = {}): Promise<FileLock<T>> {
    const opts: Required<LockOptions> = { graceMs: options.graceMs ?? DEFAULT_GRACE_MS, mode: options.mode ?? 0o600 };
    const record = { id: randomBytes(16).toString('hex'), ...fields, ...ownIdentity() } as LockRecord<T>;
    const temp = writeTemp(path, record, opts.mode);
    const unreadableSince = new Map<string, number>();
    try {
      for (;;) {
        if (createExclusive(temp, path, opts.mode)) {
          sweepLeftovers(path, opts.graceMs);
          return new FileLock(path, record, opts, undefined);
        }
        const state = readLockState<T>(path);
        if (state.kind === 'free') continue; // released just now
        if (state.kind === 'unreadable') {
          const since = unreadableSince.get(state.id) ?? Date.now();
          unreadableSince.set(state.id, since);
          const age = Math.max(state.ageMs, Date.now() - since);
          if (age >= opts.graceMs) throw new LockUnreadableError(path, state.id, age);
          await sleep(POLL_MS);
          continue;
        }
        if (state.alive) throw new LockBusyError(path, state.holder);
        // A dead holder: replace its lock, holding the claim on its id so no one else does too.
        const dead = state.holder;
        const tookOver = await withClaim(path, dead.id, record, opts, () => {
          const now = readLockState<T>(path);
          if (now.kind !== 'held' || now.holder.id !== dead.id) return false; // changed meanwhile: look again
          renameSync(temp, path);
          return true;
        });
        if (tookOver) {
          sweepLeftovers(path, opts.graceMs);
          return new FileLock(path, record, opts, dead);
        }
      }
    } finally {
      unlinkQuietly(temp);
    }
  }

  /** Rewrites the lock's record with `fields` (same id), atomically; false if the lock is no longer ours. */
  async update(fields: Partial<T>): Promise<boolean> {
    const next = { ...this.#record, ...fields, id: this.#record.id } as LockRecord<T>;
    const done = await withClaim(this.path, this.#record.id, this.#record, this.#options, () => {
      if (stateId(readLockState(this.path)) !== this.#record.id) return false;
      const temp = writeTemp(this.path, next, this.#options.mode);
      try {
        renameSync(temp, this.path);
      } catch (err) {
        unlinkQuietly(temp);
        throw err;
      }
      return true;
    });
    if (done) this.#record = next;
    return done;
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    try {
      await withClaim(this.path, this.#record.id, this.#record, this.#options, () => this.#removeIfOurs());
    } catch (err) {
      // On a full or read-only disk no claim file can be written. The holder's own lock is never taken
      // over while it lives, so removing it without the claim is safe: this is how a run that stopped on
      // a full disk still lets go of its state folder.
      if (!isOutOfRoom(err)) throw err;
      this.#removeIfOurs();
    }
  }

  /** release() for exit handlers, which cannot wait: gives up if someone else is changing the lock. */
  releaseSync(): void {
    const attempt = tryClaim(this.path, this.#record.id, this.#record, this.#options.graceMs, this.#options.mode);
    if (!('claimed' in attempt)) return;
    try {
      this.#removeIfOurs();
    } finally {
      for (const name of attempt.claimed) unlinkQuietly(name);
    }
  }

  #removeIfOurs(): void {
    if (stateId(readLockState(this.path)) === this.#record.id) unlinkQuietly(this.path);
  }
}

/**
 * Removes the lock at `path` only if its id is `lockId` (the holder's id, or the id an unreadable
 * lock is shown with), whoever holds it, and returns what it removed. For `force-unlock`.
 */
export async function forceRemoveLock<T extends object>(path: string, lockId: string, options: LockOptions = {}): Promise<Exclude<LockState<T>, { kind: 'free' }>> {
  const opts: Required<LockOptions> = { graceMs: options.graceMs ?? DEFAULT_GRACE_MS, mode: options.mode ?? 0o600 };
  const me = { ...ownIdentity(), id: randomBytes(16).toString('hex') };
  const before = readLockState<T>(path);
  if (stateId(before) !== lockId) throw new LockIdMismatchError(path, lockId, stateId(before));
  const removed = await withClaim(path, lockId, me, opts, () => {
    const now = readLockState<T>(path);
    if (now.kind === 'free' || stateId(now) !== lockId) return now;
    unlinkSync(path);
    return now;
  });
  if (removed.kind === 'free' || stateId(removed) !== lockId) throw new LockIdMismatchError(path, lockId, stateId(removed));
  return removed;
}
