import { UserError } from '../../model/user-error.js';

/**
 * `--state postgres://[user@]host[:port]/database[?...]`: where the shared verification state lives.
 * A password in the URL is refused (it would show in the process list, shell history and logs): it
 * comes from PGPASSFILE (or ~/.pgpass, mode 0600) or the PGPASSWORD variable, as for psql.
 */
const SECRET_PARAMETERS = new Set(['password', 'sslpassword']);

export function parseStateUrl(text: string): URL {
  // Never the text itself in a message: it may hold a password (a libpq string, or a URL with one).
  // A libpq connection string (`host=db user=shim password=...`), which psql also takes, or a bare
  // host:port/database: not this option's form.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim())) {
    const keyValue = /^\s*[a-z_]+\s*=/i.test(text) ? ', not a key=value connection string' : '';
    throw new UserError(
      `--state: it must be a postgres:// URL (postgres://user@host:port/database[?sslmode=...])${keyValue}; a password goes in PGPASSFILE (or ~/.pgpass, mode 0600) or PGPASSWORD, never on the command line`,
    );
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UserError(`--state: not a valid postgres:// URL (a port is 1 to 65535); expected postgres://user@host:port/database`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UserError(`--state: ${url.protocol.replace(/:$/, '')} is not supported; expected postgres://user@host:port/database`);
  }
  // Parameter names as the client decodes them (pass%77ord is password), case and spaces aside;
  // sslpassword unlocks the client key.
  const secretParameter = [...url.searchParams.keys()].some((k) => SECRET_PARAMETERS.has(k.trim().toLowerCase()));
  let user: string;
  try {
    user = decodeURIComponent(url.username);
  } catch {
    throw new UserError('--state: the user name in the URL has a broken %-escape');
  }
  // A user name holding ':' once decoded (shim%3Ahunter2), or given as a parameter (?user=shim:hunter2),
  // reads as user:password.
  const userParameters = [...url.searchParams.entries()].filter(([k]) => k.trim().toLowerCase() === 'user').map(([, v]) => v);
  if (url.password !== '' || secretParameter || [user, ...userParameters].some((u) => u.includes(':'))) {
    throw new UserError('--state: the URL holds a password; put it in PGPASSFILE (or ~/.pgpass, mode 0600) or PGPASSWORD instead');
  }
  if (url.pathname.length <= 1) throw new UserError('--state: the URL names no database (postgres://user@host:port/database)');
  return url;
}

/** The URL as it may be shown (it holds no password: parseStateUrl refused that). */
export function shownStateUrl(url: URL): string {
  return `${url.protocol}//${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.pathname}`;
}

/**
 * The URL with libpq's root certificate for a verifying TLS mode (`sslmode=verify-ca|verify-full`, in
 * the URL or PGSSLMODE) where the URL names none: PGSSLROOTCERT, else ~/.postgresql/root.crt when it
 * exists, as psql takes it. The pg client reads neither by itself (a black-box test against a private
 * CA got "unable to verify the first certificate" where the docs promised the usual files).
 */
export function withRootCertificate(url: URL, env: NodeJS.ProcessEnv, exists: (path: string) => boolean, home: string): URL {
  const mode = url.searchParams.get('sslmode') ?? env.PGSSLMODE;
  if ((mode !== 'verify-ca' && mode !== 'verify-full') || url.searchParams.has('sslrootcert')) return url;
  const fallback = `${home}/.postgresql/root.crt`;
  const root = env.PGSSLROOTCERT ?? (exists(fallback) ? fallback : undefined);
  // `system` (libpq 16): the system's CAs, which the client uses when given none.
  if (root === undefined || root === 'system') return url;
  const out = new URL(url.href);
  out.searchParams.set('sslrootcert', root);
  return out;
}
