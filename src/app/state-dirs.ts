import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fsReason } from '../io/fs-reason.js';
import { UserError } from '../model/user-error.js';

/**
 * Where runs are kept unless --state-dir says otherwise: one folder per tenant under
 * `${XDG_STATE_HOME:-~/.local/state}/mfa-migrate/`, so two applies of one plan (from two working
 * folders) share one lock and one set of journals, and runs of different tenants never mix.
 */
export function stateBase(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'state'), 'mfa-migrate');
}

export function tenantStateDir(tenantId: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[A-Za-z0-9._-]+$/.test(tenantId) || tenantId === '.' || tenantId === '..') throw new UserError(`the tenant id ${JSON.stringify(tenantId)} cannot name a folder`);
  return join(stateBase(env), tenantId);
}

/**
 * Refuses a state folder (or a run folder in it) that another user owns or that others can write:
 * whoever can write there can plant a run that resume would pick, or edit a journal rollback trusts.
 */
export async function checkStateDir(dir: string, create: boolean): Promise<void> {
  if (create) {
    // A folder that cannot be made or written (a read-only mount, no permission) is said so before anything starts.
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new UserError(`cannot write to the state folder ${dir}: ${fsReason(await whyNotMade(dir, err))}; name a writable one with --state-dir`);
    }
  }
  for (const path of [dir, join(dir, 'runs')]) {
    let st;
    try {
      st = await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    assertPrivate(path, st);
  }
}

/**
 * Checks one run folder the same way, and the files in it (its journal, its plan copy, its
 * results): each a real file of this user that others cannot write. A symbolic link in place of
 * the journal would have a run read, verify or append to a file outside its folder.
 */
export async function checkRunDir(runDir: string): Promise<void> {
  assertPrivate(runDir, await lstat(runDir));
  for (const entry of await readdir(runDir, { withFileTypes: true })) {
    if (entry.isDirectory()) continue;
    const path = join(runDir, entry.name);
    const st = await lstat(path);
    if (st.isSymbolicLink()) throw new UserError(`${path} is a symbolic link: a run's files must be real files of yours`);
    assertOwned(path, st);
  }
}

function assertPrivate(path: string, st: Awaited<ReturnType<typeof lstat>>): void {
  if (st.isSymbolicLink()) throw new UserError(`${path} is a symbolic link: a state folder must be a real folder of yours`);
  if (!st.isDirectory()) throw new UserError(`${path} is not a folder`);
  assertOwned(path, st);
}

function assertOwned(path: string, st: Awaited<ReturnType<typeof lstat>>): void {
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new UserError(`${path} belongs to another user (uid ${st.uid}): refusing to use runs someone else can plant or edit`);
  if ((Number(st.mode) & 0o022) !== 0) throw new UserError(`${path} can be written by others (mode ${(Number(st.mode) & 0o777).toString(8)}): refusing to use it; chmod ${st.isDirectory() ? 700 : 600} it if it is yours`);
}

/** The state folders to look in when none is named: every tenant folder under the base. */
export async function allStateDirs(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const base = stateBase(env);
  const names = await readdir(base, { withFileTypes: true }).catch(() => []);
  return names.filter((d) => d.isDirectory()).map((d) => join(base, d.name)).sort();
}

/** A recursive mkdir on a read-only mount says ENOENT: the nearest folder that exists tells the real reason. */
async function whyNotMade(dir: string, err: unknown): Promise<unknown> {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return err;
  for (let d = dirname(dir); ; d = dirname(d)) {
    try {
      await access(d, constants.W_OK);
      return err;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || d === dirname(d)) return e;
    }
  }
}
