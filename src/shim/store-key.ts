import { createHash, hkdfSync } from 'node:crypto';
import { UserError } from '../model/user-error.js';
import { readSecretText } from '../io/secret-file.js';

export const STORE_KEY_ENV = 'MFA_SHIM_KEY';
const KEY_BYTES = 32;

/** A store key problem the CLI reports as is (never containing key material). */
export class StoreKeyError extends UserError {
  override name = 'StoreKeyError';
}

/**
 * The 32-byte AES-256-GCM key of the token store: from --key-file when given, else from the
 * MFA_SHIM_KEY environment variable. Both hold the key in base64 (standard or URL-safe alphabet);
 * `openssl rand -base64 32` makes one.
 */
export function loadStoreKey(opts: { keyFile?: string; env?: NodeJS.ProcessEnv; strictPermissions?: boolean; onNotice?: (message: string) => void }): Buffer {
  if (opts.keyFile !== undefined) {
    const text = readSecretText(opts.keyFile, 'key file', {
      ...(opts.strictPermissions !== undefined ? { strict: opts.strictPermissions } : {}),
      ...(opts.onNotice ? { onNotice: opts.onNotice } : {}),
    });
    return parseStoreKey(text, `key file ${opts.keyFile}`);
  }
  const fromEnv = (opts.env ?? process.env)[STORE_KEY_ENV];
  if (fromEnv === undefined || fromEnv.trim() === '') {
    throw new StoreKeyError(`no store key: set ${STORE_KEY_ENV} (base64 of 32 random bytes, e.g. from \`openssl rand -base64 32\`) or pass --key-file`);
  }
  return parseStoreKey(fromEnv, STORE_KEY_ENV);
}

export function parseStoreKey(text: string, where: string): Buffer {
  const compact = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    throw new StoreKeyError(`${where}: the key must be base64 text (32 random bytes, e.g. from \`openssl rand -base64 32\`)`);
  }
  const key = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new StoreKeyError(`${where}: the key must decode to ${KEY_BYTES} bytes, not ${key.length}`);
  }
  return key;
}

/** Names a key without disclosing it, so "wrong key" errors can say which key the store expects. */
export function storeKeyId(key: Buffer): string {
  return createHash('sha256').update('mfa-migrate shim key id\0').update(key).digest('hex').slice(0, 16);
}

/** A separate key for each use (store encryption, journal MACs, made-up names' keys in PostgreSQL), so one key never serves two purposes. */
export function deriveKey(key: Buffer, purpose: 'store-encryption' | 'journal-mac' | 'unlock-mac' | 'absent-name'): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `mfa-migrate shim ${purpose}`, 32));
}
