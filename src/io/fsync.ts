import { closeSync, constants, fdatasync, fdatasyncSync, fsync, fsyncSync, openSync, write, writeSync, writeFileSync, fchmodSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * The project's durable-write primitives: every fsync the tool makes goes through here, so "written"
 * means the same thing for the atomic file writer, the apply journal, the shim's journals and the
 * locks. fsync (not fdatasync) where a file's size or mode changes with the write; fdatasync where
 * only data changes in place (the shim's preallocated journal).
 */

/**
 * Writes `data` to `path` (created with `mode`, or truncated; `exclusive` fails with EEXIST instead)
 * and fsyncs it before returning. The mode is set again on the open file: the umask may have
 * narrowed it, or the file existed with another one. `data` may be text made a chunk at a time
 * (strings written as UTF-8), written as it comes.
 */
export async function writeFileSynced(path: string, data: string | Uint8Array | Iterable<string>, options: { mode?: number; exclusive?: boolean } = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const handle = await open(path, options.exclusive ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL : 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** writeFileSynced for code that must not yield (exit handlers, the lock's few small files). */
export function writeFileSyncedSync(path: string, data: string | Uint8Array, options: { mode?: number; exclusive?: boolean } = {}): void {
  const mode = options.mode ?? 0o600;
  const fd = openSync(path, options.exclusive ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL : 'w', mode);
  try {
    writeFileSync(fd, data);
    fchmodSync(fd, mode);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a file that was written by other means (a copy), optionally setting its mode first. */
export async function syncFile(path: string, mode?: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    if (mode !== undefined) await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory, so that creations, renames and removals in it survive a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Appends `data` to a file opened for appending and fsyncs it: on return the bytes are on disk. */
export async function appendSynced(handle: FileHandle, data: string | Uint8Array): Promise<void> {
  // writeFile loops until every byte is written (a single write() may write fewer).
  await handle.writeFile(data);
  await handle.sync();
}

/** fsync of an open descriptor, through the thread pool. */
export function syncDescriptor(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** fdatasync of an open descriptor (data and the size needed to read it back, not the times). */
export function datasyncDescriptor(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** O_DSYNC where the platform has it (Linux, macOS); elsewhere writeAtSynced follows each write with fdatasync. */
const DSYNC: number | undefined = constants.O_DSYNC;

/**
 * Opens an existing file for in-place durable writes: with O_DSYNC each write returns only once its
 * bytes are on disk, so a write is one system call and no separate flush round trip.
 */
export function openForSyncedWrites(path: string): number {
  // O_NOFOLLOW: a symbolic link planted in place of the file is refused (ELOOP), never written through.
  return openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | (DSYNC ?? 0));
}

/**
 * writeAtSynced through the thread pool: the promise settles once the bytes are on disk, and the
 * event loop runs on while the disk takes its time (the shim verifies the next requests meanwhile).
 */
export async function writeAtSyncedAsync(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    const from = off;
    off += await new Promise<number>((resolve, reject) =>
      write(fd, bytes, from, bytes.length - from, position + from, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
  if (DSYNC === undefined) await datasyncDescriptor(fd);
}

/**
 * Writes all of `bytes` at `position` of a descriptor from openForSyncedWrites, synchronously; on
 * return they are on disk.
 */
export function writeAtSynced(fd: number, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
  if (DSYNC === undefined) fdatasyncSync(fd);
}
