import { describe, expect, it } from 'vitest';
import { withRootCertificate } from '../../../src/shim/postgres/state-url.js';

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
