import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlClient } from './postgres-sql.js';

/**
 * A real PostgreSQL server for the tests, from the distribution's packages (Debian: postgresql;
 * `.ci/run` installs it where missing). PostgreSQL refuses to run as root, so as root the cluster
 * belongs to the unprivileged `postgres` account the package creates. Password authentication
 * (scram-sha-256) on 127.0.0.1, the password given to clients through a PGPASSFILE, as the shim's
 * docs tell admins to. `unavailable` says why a server cannot be had (the tests then skip, saying so).
 */

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(root, v, 'bin', 'postgres'))) return join(root, v, 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const asRoot = process.getuid?.() === 0;
const account = (() => {
  if (!asRoot) return undefined;
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
})();

export const unavailable: string | undefined = (() => {
  const bin = binDir();
  if (!bin) return 'PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does)';
  if (asRoot && !account) return 'running as root and there is no postgres account to run PostgreSQL as';
  return undefined;
})();

/**
 * The server's folder goes in memory (/dev/shm) where that has room, else in the temporary folder: on
 * the disk, the cluster's writes and its removal at the end (postgres-state makes a database a test,
 * each a copy of template1: some 300 MB) cost CPU in the file system's journal and block allocation.
 * A container's /dev/shm is often 64 MB: too small, the disk then.
 */
function serverBase(): string {
  try {
    const shm = statfsSync('/dev/shm');
    if (shm.bavail * shm.bsize >= 2 * 1024 ** 3) return '/dev/shm';
  } catch {
    // no /dev/shm
  }
  return tmpdir();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface TestPostgres {
  /** postgres://shim@127.0.0.1:PORT/mfa_shim (no password: see env). */
  url: string;
  /** PGPASSFILE for clients. */
  env: Record<string, string>;
  /** Stops the server at once (connections cut), as a crash or a failover would. */
  kill(): Promise<void>;
  /** Stops the server's processes where they are (SIGSTOP), as a hung host would: connections hang, nothing is refused. */
  freeze(): void;
  thaw(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SQL as the superuser, in database `db` (default postgres): what `psql -At -c` prints (test/shim/postgres-sql.ts). */
  sql(text: string, db?: string): string;
}

export async function startPostgres(): Promise<TestPostgres> {
  if (unavailable) throw new Error(unavailable);
  const bin = binDir()!;
  const dir = mkdtempSync(join(serverBase(), 'shim-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (account) {
    chownSync(dir, account.uid, account.gid);
    chownSync(pwfile, account.uid, account.gid);
  }
  const as = (cmd: string, args: string[]): [string, string[]] => (account ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const run = (cmd: string, args: string[]): string => {
    const [c, a] = as(cmd, args);
    return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  run(join(bin, 'initdb'), ['-D', data, '-U', 'shim', '--pwfile', pwfile, '--auth-local', 'trust', '--auth-host', 'scram-sha-256', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  // Over the Unix socket in `dir`, as the superuser (trusted there).
  const client = sqlClient(dir, port, 'shim');
  const sql = (text: string, db = 'postgres'): string => client.sql(text, db);
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const [c, a] = as(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'shared_buffers=32MB']);
    const proc = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    child = proc;
    let log = '';
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        sql('SELECT 1');
        return;
      } catch {
        if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  // As root the server runs under runuser: the postgres process itself is runuser's child.
  const serverPids = (proc: ChildProcess): number[] => (account ? execFileSync('pgrep', ['-P', String(proc.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number) : [proc.pid!]);
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
    const pids = serverPids(proc);
    for (const pid of pids) process.kill(pid, signal);
    // A server that has not gone in 10 s (a stop held up on a loaded machine) is killed with its
    // backends, so that a test file's last hook ends within its timeout.
    const late = setTimeout(() => {
      for (const pid of pids) {
        for (const backend of childrenOf(pid)) signalIfAlive(backend, 'SIGKILL');
        signalIfAlive(pid, 'SIGKILL');
      }
    }, 10_000);
    await exited;
    clearTimeout(late);
  };
  // The postmaster and every backend: a frozen host answers nothing at all. runuser stops itself when
  // its child stops (as su does): it is woken too, or it would never exit.
  // A backend may exit between pgrep's listing and its signal (a client's connection closing): it
  // needs no signal then, and pgrep finding no backend at all exits 1.
  const signalIfAlive = (pid: number, signal: NodeJS.Signals): void => {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  const childrenOf = (pid: number): number[] => {
    try {
      return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    } catch (err) {
      if ((err as { status?: number }).status === 1) return [];
      throw err;
    }
  };
  const signalAll = (signal: NodeJS.Signals): void => {
    if (account && signal === 'SIGCONT') process.kill(child!.pid!, signal);
    for (const pid of serverPids(child!)) {
      process.kill(pid, signal);
      for (const backend of childrenOf(pid)) signalIfAlive(backend, signal);
    }
  };
  await start();
  sql('CREATE DATABASE mfa_shim');
  const passfile = join(dir, 'client.pgpass');
  writeFileSync(passfile, `127.0.0.1:${port}:*:shim:${password}\n`, { mode: 0o600 });
  return {
    url: `postgres://shim@127.0.0.1:${port}/mfa_shim`,
    env: { PGPASSFILE: passfile },
    // SIGQUIT: immediate shutdown, connections cut (crash recovery at the next start).
    kill: () => stopWith('SIGQUIT'),
    freeze: () => signalAll('SIGSTOP'),
    thaw: () => signalAll('SIGCONT'),
    start,
    // Immediate shutdown (SIGQUIT), since the data folder goes with it: a fast one (SIGINT) writes a
    // checkpoint first, which on a loaded 2-core machine outlasted the 30 s hook timeout.
    stop: async () => {
      await client.close();
      await stopWith('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
    sql,
  };
}

/** Points PGPASSFILE at `file`, as the shim's docs tell admins to give the password; the function returned puts back what was there. */
export function usePassfile(file: string): () => void {
  const saved = process.env.PGPASSFILE;
  process.env.PGPASSFILE = file;
  return () => {
    if (saved === undefined) delete process.env.PGPASSFILE;
    else process.env.PGPASSFILE = saved;
  };
}
