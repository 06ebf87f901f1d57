import { describe, expect, it } from 'vitest';
import { withFileErrors } from '../../src/app/shim-store.js';
import { UserError } from '../../src/model/user-error.js';

function fsError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path !== undefined ? { path } : {}) });
}

describe('withFileErrors', () => {
  it('turns a failed system call into one line naming the call, the file and the cause in words an admin acts on', async () => {
    const err = await withFileErrors(() => Promise.reject(fsError('EACCES', 'open', '/srv/shim/s.store'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('open /srv/shim/s.store failed: permission denied');
  });

  it('keeps the code of a cause it has no words for, and reads well without a path', async () => {
    const err = await withFileErrors(() => Promise.reject(fsError('EIO', 'write'))).catch((e: unknown) => e);
    expect((err as Error).message).toBe('write failed: EIO');
  });

  it('names the store a write without a path was for (a black-box test on a full disk read "write failed: the disk is full")', async () => {
    const err = await withFileErrors(() => Promise.reject(fsError('ENOSPC', 'write')), '/srv/shim/s.store').catch((e: unknown) => e);
    expect((err as Error).message).toBe('write for the store /srv/shim/s.store (or its journal beside it) failed: the disk is full');
  });

  it("turns PostgreSQL's refusal of a statement into one line, with what to do for a timeout (a black-box test saw a stack trace behind a held lock)", async () => {
    const timeout = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014', severity: 'ERROR' });
    const err = await withFileErrors(() => Promise.reject(timeout)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('--state: PostgreSQL refused a statement (SQLSTATE 57014: canceling statement due to statement timeout): the database did not answer in time (a long import, or a lock, holds its tables); try again once it is done');
  });

  it('passes the shim\'s own errors and other errors through as they are', async () => {
    const own = new UserError('the store key is wrong');
    await expect(withFileErrors(() => Promise.reject(own))).rejects.toBe(own);
    const bug = new TypeError('x is undefined');
    await expect(withFileErrors(() => Promise.reject(bug))).rejects.toBe(bug);
  });
});
