import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { deriveKey } from './store-key.js';
import { userKey, type ShimUser } from './store-model.js';
import type { UnlockRequests } from './verifier.js';

/**
 * `shim unlock` while `shim serve` holds the store: the state lives in the server's memory, so the
 * command leaves a request file in `<store>.unlock/` (0700) and the server applies it, at the user's
 * next attempt at the latest (and within seconds by its sweep). Only requests made after the user's
 * lock-out began count, so a stale request can never release a later lock-out.
 *
 * A request carries an HMAC-SHA256 (key derived from the store key, info `mfa-migrate shim
 * unlock-mac`) over the store id, the user and the time (issue 17 item 13): whoever can write the
 * store's folder but has no store key cannot unlock anybody; a forged or foreign request is dropped
 * and reported.
 */
export const unlockDirOf = (store: string): string => `${store}.unlock`;

interface UnlockRequest {
  user: string;
  requestedAt: number;
  mac: string;
}

const fileFor = (dir: string, key: string): string => join(dir, `${hash('sha256', key, 'hex').slice(0, 32)}.json`);

function macOf(macKey: Buffer, storeId: string, user: string, requestedAt: number): string {
  return createHmac('sha256', macKey).update(`${storeId}\n${user}\n${requestedAt}`).digest('hex');
}

/** The request if it is well formed and its MAC proves it was made with this store's key. */
function authentic(value: unknown, macKey: Buffer, storeId: string): UnlockRequest | undefined {
  const r = value as Partial<UnlockRequest> | null;
  if (typeof r !== 'object' || r === null || typeof r.user !== 'string' || !Number.isSafeInteger(r.requestedAt) || typeof r.mac !== 'string') return undefined;
  const expected = Buffer.from(macOf(macKey, storeId, r.user, r.requestedAt!), 'latin1');
  const given = Buffer.from(r.mac, 'latin1');
  return expected.length === given.length && timingSafeEqual(expected, given) ? (r as UnlockRequest) : undefined;
}

/** Leaves an unlock request for the server holding the store; `key` is the store key, `storeId` the store's. */
export async function requestUnlock(store: string, username: string, key: Buffer, storeId: string, now = Date.now()): Promise<string> {
  const dir = unlockDirOf(store);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const user = userKey(username);
  const file = fileFor(dir, user);
  const request: UnlockRequest = { user, requestedAt: now, mac: macOf(deriveKey(key, 'unlock-mac'), storeId, user, now) };
  await writeFileAtomic(file, JSON.stringify(request) + '\n', 0o600);
  return file;
}

export class UnlockRequestDir implements UnlockRequests {
  readonly dir: string;
  readonly #macKey: Buffer;

  /**
   * `onRelease` hears of every state cleared by a request (for the audit log), `onForged` of every
   * request dropped because its MAC does not verify.
   */
  constructor(
    store: string,
    key: Buffer,
    private readonly storeId: string,
    private readonly onRelease: (user: ShimUser, wasLocked: boolean) => void = () => undefined,
    private readonly onForged: (file: string) => void = () => undefined,
  ) {
    this.dir = unlockDirOf(store);
    this.#macKey = deriveKey(key, 'unlock-mac');
  }

  /** Consumes the user's request, if any: when it was made, if it is authentic. Synchronous: it runs inside verify(). */
  take(user: ShimUser): number | undefined {
    const file = fileFor(this.dir, user.key);
    // Nearly always there is none: asked first, since a read that fails costs an exception (about
    // 11 µs against 1 µs, measured; every verification of a user with failures asks). A file
    // removed in between is caught below as before.
    if (!existsSync(file)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
    try {
      unlinkSync(file);
    } catch {
      // raced with the sweep; the request still counts
    }
    const request = authentic(value, this.#macKey, this.storeId);
    if (!request) {
      this.onForged(file);
      return undefined;
    }
    return request.user === user.key ? request.requestedAt : undefined;
  }

  applied(user: ShimUser, wasLocked: boolean): void {
    this.onRelease(user, wasLocked);
  }

  /** All pending authentic requests (consumed); unreadable files are removed, forged ones reported. */
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
        const request = authentic(JSON.parse(await readFile(file, 'utf8')), this.#macKey, this.storeId);
        if (request) requests.push(request);
        else this.onForged(file);
      } catch {
        // half-written by a crashed command: drop it
      }
      await unlink(file).catch(() => undefined);
    }
    return requests;
  }
}
