import { lstatSync, mkdirSync } from 'node:fs';
import nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Node's module compile cache (Node 22.8+): V8's compiled code of the CLI's own modules kept on disk
 * between runs, so that a command does not compile its modules again each time (about 20 ms of CPU
 * off every start; docs/cli.md). It holds the code of the JavaScript files Node loads, never data
 * the commands read or write. Absent from older Node 22 releases: the CLI then runs without it.
 */
type EnableCompileCache = (dir?: string) => { status: number; directory?: string; message?: string };

/**
 * `${XDG_CACHE_HOME:-~/.cache}/mfa-migrate/compile-cache`: a folder of the user's own, not Node's
 * default under the shared temporary folder, where another local user could make the folder first
 * and plant compiled code that the CLI would run (Node takes a folder that exists as it is).
 */
export function compileCacheBase(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'mfa-migrate', 'compile-cache');
}

/** The folder this process enabled (not one of NODE_COMPILE_CACHE, which workers inherit anyway). */
let ownFolder: string | undefined;

/**
 * Enables the cache for this process; quietly does nothing when it cannot (an older Node, a folder
 * that cannot be made or is not the user's own, NODE_DISABLE_COMPILE_CACHE). NODE_COMPILE_CACHE, set,
 * has Node enable it at start-up in that folder instead. Returns the folder in use, if any.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const enable = (nodeModule as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  // Set at all, even empty, it disables the cache (as Node reads it).
  if (typeof enable !== 'function' || env.NODE_DISABLE_COMPILE_CACHE !== undefined) return undefined;
  if (env.NODE_COMPILE_CACHE) return enable().directory;
  try {
    const dir = compileCacheBase(env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    // Whoever can write the folder can have the CLI run code of theirs: a real folder of this user's only.
    if (!st.isDirectory() || (uid !== undefined && (st.uid !== uid || (st.mode & 0o022) !== 0))) return undefined;
    const result = enable(dir);
    if (result.status !== nodeModule.constants.compileCacheStatus.ENABLED) return undefined;
    ownFolder = result.directory;
    return ownFolder;
  } catch {
    return undefined;
  }
}

/**
 * The environment of a worker thread: Node enables the cache in a worker only by NODE_COMPILE_CACHE in
 * its environment, so the folder this process enabled is added there (the worker's modules, the
 * apply engine and the seed readers, are most of a job's start-up). Undefined: the process's own.
 */
export function workerEnv(): NodeJS.ProcessEnv | undefined {
  return ownFolder === undefined ? undefined : { ...process.env, NODE_COMPILE_CACHE: ownFolder };
}
