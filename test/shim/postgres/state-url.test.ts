import { describe, expect, it } from 'vitest';
import { parseStateUrl, withRootCertificate } from '../../../src/shim/postgres/state-url.js';

/** libpq's root certificate for a verifying TLS mode, which the pg client does not look for itself. */
describe('withRootCertificate', () => {
  const url = (q = '') => new URL(`postgres://shim@db.example:5432/mfa${q}`);
  const none = () => false;

  it('adds PGSSLROOTCERT, else ~/.postgresql/root.crt when it exists, for verify-full and verify-ca (a black-box test against a private CA)', () => {
    expect(withRootCertificate(url('?sslmode=verify-full'), { PGSSLROOTCERT: '/etc/ca.pem' }, none, '/home/shim').searchParams.get('sslrootcert')).toBe('/etc/ca.pem');
    const fromHome = withRootCertificate(url(), { PGSSLMODE: 'verify-ca' }, (p) => p === '/home/shim/.postgresql/root.crt', '/home/shim');
    expect([fromHome.searchParams.get('sslmode'), fromHome.searchParams.get('sslrootcert')]).toEqual([null, '/home/shim/.postgresql/root.crt']);
  });

  it('leaves the URL as it is otherwise: a root named in it, a mode that does not verify, no file to take', () => {
    for (const [u, env] of [
      [url('?sslmode=verify-full&sslrootcert=/mine.pem'), { PGSSLROOTCERT: '/etc/ca.pem' }],
      [url('?sslmode=require'), { PGSSLROOTCERT: '/etc/ca.pem' }],
      [url(), { PGSSLROOTCERT: '/etc/ca.pem' }],
      [url('?sslmode=verify-full'), {}],
      [url('?sslmode=verify-full'), { PGSSLROOTCERT: 'system' }],
    ] as const) {
      expect(withRootCertificate(u, env, none, '/home/shim').href).toBe(u.href);
    }
  });
});

describe('parseStateUrl', () => {
  const refusal = (text: string): string => {
    try {
      parseStateUrl(text);
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  };

  it('a libpq key=value string or a bare host:port is told to be a postgres:// URL, never echoed (a black-box test: "not a valid URL (a port is 1 to 65535)")', () => {
    for (const text of ['host=db.example user=shim password=hunter2 dbname=mfa', ' dbname=mfa password=hunter2', 'password=hunter2']) {
      const message = refusal(text);
      expect(message, text).toMatch(/^--state: it must be a postgres:\/\/ URL \(postgres:\/\/user@host:port\/database\[\?sslmode=\.\.\.\]\), not a key=value connection string; a password goes in PGPASSFILE/);
      expect(message).not.toMatch(/hunter2|db\.example/);
    }
    expect(refusal('db.example:5432/mfa')).toMatch(/^--state: it must be a postgres:\/\/ URL \(postgres:\/\/user@host:port\/database\[\?sslmode=\.\.\.\]\); a password goes/);
    // A URL whose port is out of range, or with a password: still named as such, without the text.
    expect(refusal('postgres://shim:hunter2@db:99999/mfa')).toBe('--state: not a valid postgres:// URL (a port is 1 to 65535); expected postgres://user@host:port/database');
    expect(refusal('postgres://shim:hunter2@db/mfa')).not.toContain('hunter2');
    expect(parseStateUrl(' postgres://shim@db/mfa ').pathname).toBe('/mfa');
  });
});
