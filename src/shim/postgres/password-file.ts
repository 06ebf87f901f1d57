import { statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/**
 * The password file libpq (and the pgpass module, which the shim asks) reads: PGPASSFILE, else
 * ~/.pgpass, by $HOME as pgpass takes it.
 */
export function passwordFileOf(env: NodeJS.ProcessEnv): string {
  return env.PGPASSFILE || join(env.HOME || './', '.pgpass');
}

/**
 * Why the password file, when there is one, is not read: pgpass, as psql, ignores a file that is not
 * a regular file or that group or others can access, printing its own WARNING line on stderr and then
 * giving no password (a black-box test saw that warning, then "none is given"). Checked first, so the
 * one message says so; the file's content is never read here. Undefined: it is read (or absent).
 */
export function passwordFileProblem(env: NodeJS.ProcessEnv, stat: (path: string) => Stats = statSync): string | undefined {
  const file = passwordFileOf(env);
  const named = env.PGPASSFILE ? `PGPASSFILE ${file}` : `the password file ${file}`;
  let st: Stats;
  try {
    st = stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ~/.pgpass is optional; a PGPASSFILE that cannot be read is worth saying.
    return env.PGPASSFILE && code !== undefined ? `${named} cannot be read (${code})` : undefined;
  }
  if (!st.isFile()) return `${named} is not a regular file, so it was ignored (as psql ignores it)`;
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    return `${named} has mode ${mode}: group or others can access it, so it was ignored (as psql ignores it); chmod 600 it`;
  }
  return undefined;
}
