import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTOSO_PASSWORD, CONTOSO_PSK, TEST_PSK } from '../../../fixtures/make-contoso-seeds.js';
import { VENDOR_KEYS, VENDOR_PASSWORD } from '../../../fixtures/make-vendor-seeds.js';
import type { SeedReadOptions } from '../../../src/source/seeds/read-seed-files.js';
import { contosoToken, FIXTURES, read } from './seed-test-helpers.js';

/**
 * The PSKC readers cross-checked against an established, independent implementation: Debian's
 * python3-pskc (Arthur de Jong's python-pskc), which reads RFC 6030, its other ciphers and the
 * drafts before it. Every PSKC fixture is read by both; each OATH key python-pskc reads must be
 * read here with the same secret (compared by fingerprint), counter, time step and digits, and a
 * file it refuses must be refused here. Runs where python3-pskc is installed (.ci/run installs it).
 */

const PYTHON = process.env.PYTHON3_BIN ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import pskc'], { encoding: 'utf8' });
const available = probe.status === 0;
if (!available) {
  console.warn(`python-pskc cross-check: SKIPPED, ${PYTHON} cannot import pskc (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}); install Debian's python3-pskc`);
}

/** Reads each file with python-pskc; per key: serial (or key id), algorithm, sha256-16 of the secret, counter, interval, digits. */
const ORACLE = `
import sys, json, hashlib, binascii
from pskc import PSKC
out = []
for job in json.load(sys.stdin):
    r = {'keys': []}
    try:
        p = PSKC(job['path'])
        if job.get('key'): p.encryption.key = binascii.a2b_hex(job['key'])
        if job.get('password'): p.encryption.derive_key(job['password'])
        for k in p.keys:
            try:
                secret = k.secret
                r['keys'].append({'serial': k.serial or k.id, 'algorithm': k.algorithm or '', 'fingerprint': hashlib.sha256(secret).hexdigest()[:16] if secret else None,
                                  'counter': None if k.counter is None else str(k.counter), 'interval': k.time_interval, 'digits': k.response_length})
            except Exception as e:
                r['keys'].append({'serial': k.serial or k.id, 'error': type(e).__name__})
    except Exception as e:
        r['error'] = type(e).__name__
    out.append(r)
print(json.dumps(out))
`;

interface OracleKey {
  serial: string | null;
  algorithm?: string;
  fingerprint?: string | null;
  counter?: string | null;
  interval?: number | null;
  digits?: number | null;
  error?: string;
}

interface Job {
  path: string;
  opts: SeedReadOptions;
}

const formats = join(FIXTURES, 'seeds', 'formats');
/** The credentials each fixture needs, by file name (a file not listed needs none). */
const CREDENTIALS: Record<string, SeedReadOptions> = {
  'rfc6030-tripledes-cbc.pskc': { pskcKey: VENDOR_KEYS.tripleDes },
  'rfc6030-tripledes-cbc-2key.pskc': { pskcKey: VENDOR_KEYS.tripleDes2 },
  'rfc6030-kw-aes128.pskc': { pskcKey: VENDOR_KEYS.aes128 },
  'rfc6030-kw-aes192.pskc': { pskcKey: VENDOR_KEYS.aes192 },
  'rfc6030-kw-aes256.pskc': { pskcKey: VENDOR_KEYS.aes256 },
  'rfc6030-kw-tripledes.pskc': { pskcKey: VENDOR_KEYS.tripleDes },
  'rfc6030-hotp-big-counters.pskc': { pskcKey: VENDOR_KEYS.aes128 },
  'draft-hoyer-actividentity-aes128.pskc': { pskcKey: VENDOR_KEYS.activIdentity },
  'draft-hoyer-pbe-3des.pskc': { pskcPassword: VENDOR_PASSWORD },
  'draft-ietf-keyprov-pskc-02-encrypted.pskc': { pskcKey: VENDOR_KEYS.aes128 },
  'rfc6030-figure6.pskc': { pskcKey: TEST_PSK },
  'rfc6030-figure7.pskc': { pskcPassword: 'qwerty' },
  'psk-two-keys.pskc': { pskcKey: TEST_PSK },
  'mac-over-plaintext.pskc': { pskcKey: TEST_PSK },
  'prefixed-namespace.pskc': { pskcKey: TEST_PSK },
  'seeds-psk.pskc': { pskcKey: CONTOSO_PSK },
  'seeds-password.pskc': { pskcPassword: CONTOSO_PASSWORD },
};
/** Fixtures made to be refused (unsafe, broken, tampered, not PSKC): not for a cross-check of what is read. */
const REFUSED_BY_DESIGN = new Set(['xxe.pskc', 'billion-laughs.pskc', 'undeclared-entity.pskc', 'truncated.pskc', 'bad-mac.pskc', 'no-mac.pskc', 'aes192-hotp-encrypted-counter.pskc']);
/** python-pskc cannot read these: privacyIDEA's export writes its TimeDrift as a decimal ("-60.0"), which python-pskc takes for Base64. */
const BEYOND_PYTHON_PSKC = new Set(['privacyidea-export.pskc']);

function jobs(): Job[] {
  const pskc = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.pskc') && !REFUSED_BY_DESIGN.has(f) && !BEYOND_PYTHON_PSKC.has(f)).map((f) => join(dir, f));
  return [...pskc(formats), ...pskc(join(FIXTURES, 'seeds')), contosoToken('seeds.pskc'), contosoToken('seeds-psk.pskc'), contosoToken('seeds-password.pskc')].map((path) => ({
    path,
    opts: CREDENTIALS[path.split('/').pop()!] ?? {},
  }));
}

function oracle(all: Job[]): { keys: OracleKey[]; error?: string }[] {
  const input = JSON.stringify(all.map((j) => ({ path: j.path, key: j.opts.pskcKey?.toString('hex'), password: j.opts.pskcPassword })));
  const r = spawnSync(PYTHON, ['-c', ORACLE], { input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python-pskc failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { keys: OracleKey[]; error?: string }[];
}

const isOath = (algorithm: string | undefined): boolean => algorithm === '' || /(^|[:#/])(hotp|totp)$/i.test(algorithm ?? '');

describe.skipIf(!available)('cross-check with python-pskc (Debian python3-pskc)', () => {
  it('every PSKC fixture: the same OATH keys, secrets, counters, time steps and digits; the same refusals', async () => {
    const all = jobs();
    expect(all.length).toBeGreaterThan(20);
    const results = oracle(all);
    let compared = 0;
    for (const [i, job] of all.entries()) {
      const theirs = results[i]!;
      const ours = await read(job.path, job.opts);
      const name = job.path.slice(FIXTURES.length + 1);
      if (theirs.error !== undefined) {
        expect(ours.seeds, `${name}: python-pskc refuses it (${theirs.error}), so must we`).toEqual([]);
        expect(ours.problems.some((p) => p.severity === 'error'), name).toBe(true);
        continue;
      }
      const mine = new Map(ours.seeds.map((s) => [s.serial, s]));
      for (const k of theirs.keys) {
        if (!isOath(k.algorithm) || k.serial === null || k.error !== undefined || !k.fingerprint) continue;
        const s = mine.get(k.serial);
        expect(s, `${name}: key ${k.serial} read by python-pskc`).toBeDefined();
        expect(s!.fingerprint, `${name} ${k.serial}: secret`).toBe(k.fingerprint);
        if (s!.type === 'hotp' && k.counter !== null) expect(String(s!.counter), `${name} ${k.serial}: counter`).toBe(k.counter);
        if (s!.type === 'totp' && k.interval) expect(s!.period, `${name} ${k.serial}: time step`).toBe(k.interval);
        if (k.digits) expect(s!.digits, `${name} ${k.serial}: digits`).toBe(k.digits);
        compared++;
      }
    }
    // RFC 6030's figures, every cipher and every draft: some forty keys in all.
    expect(compared).toBeGreaterThan(30);
  }, 120_000);

  it('python-pskc refuses the Version RFC 6030 does not define, as the reader does', async () => {
    const [theirs] = oracle([{ path: join(formats, 'rfc6030-version-1.1.pskc'), opts: {} }]);
    expect(theirs!.error).toBeDefined();
    expect((await read(join(formats, 'rfc6030-version-1.1.pskc'))).seeds).toEqual([]);
  });
});
