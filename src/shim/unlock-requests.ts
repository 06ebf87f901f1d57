import { createHash } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { userKey, type ShimUser } from './store-model.js';
import type { UnlockRequests } from './verifier.js';

/**
 * `shim unlock` while `shim serve` holds the store: the state lives in the server's memory, so the
 * command leaves a request file in `<store>.unlock/` (0700) and the server applies it, at the user's
 * next attempt at the latest (and within seconds by its sweep). Only requests made after the user's
 * lock-out began count, so a stale request can never release a later lock-out.
 */
export const unlockDirOf = (store: string): string => `${store}.unlock`;

interface UnlockRequest {
  user: string;
  requestedAt: number;
}

const fileFor = (dir: string, key: string): string => join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);

export async function requestUnlock(store: string, username: string, now = Date.now()): Promise<string> {
  const dir = unlockDirOf(store);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = fileFor(dir, userKey(username));
  const request: UnlockRequest = { user: userKey(username), requestedAt: now };
  await writeFileAtomic(file, JSON.stringify(request) + '\n', 0o600);
  return file;
}

export class UnlockRequestDir implements UnlockRequests {
  readonly dir: string;

  /** `onRelease` hears of every lock-out released by a request (for the audit log). */
  constructor(
    store: string,
    private readonly onRelease: (user: ShimUser) => void = () => undefined,
  ) {
    this.dir = unlockDirOf(store);
  }

  /** Consumes a request for this user; true if it releases the user's current lock-out. Synchronous: it runs inside verify(). */
  take(user: ShimUser): boolean {
    const file = fileFor(this.dir, user.key);
    let request: UnlockRequest;
    try {
      request = JSON.parse(readFileSync(file, 'utf8')) as UnlockRequest;
    } catch {
      return false;
    }
    try {
      unlinkSync(file);
    } catch {
      // raced with the sweep; the request still counts
    }
    const releases = request.user === user.key && (user.lockedAt === null || request.requestedAt >= user.lockedAt);
    if (releases) this.onRelease(user);
    return releases;
  }

  /** All pending requests (consumed); unreadable files are removed. */
  async drain(): Promise<UnlockRequest[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const requests: UnlockRequest[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const file = join(this.dir, name);
      try {
        const request = JSON.parse(await readFile(file, 'utf8')) as UnlockRequest;
        if (typeof request.user === 'string' && typeof request.requestedAt === 'number') requests.push(request);
      } catch {
        // half-written by a crashed command: drop it
      }
      await unlink(file).catch(() => undefined);
    }
    return requests;
  }
}
