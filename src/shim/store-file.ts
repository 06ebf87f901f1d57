import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { stageFileAtomic, writeFileAtomic, type StagedFile } from '../io/atomic-file.js';
import { deriveKey, storeKeyId } from './store-key.js';
import { UserError } from '../model/user-error.js';
import { MAX_COUNTER, MAX_EXACT_COUNTER } from '../otp/hotp.js';

export const STORE_FORMAT = 'mfa-migrate-shim-store';
/** 2: the store names its journal (issue 17 item 7). Version 1 stores are read, and rewritten as 2. */
export const STORE_VERSION = 2;

/** A store that cannot be read: missing, not a store, wrong key, tampered, inconsistent. */
export class StoreError extends UserError {
  override name = 'StoreError';
}


/** A HOTP counter as JSON holds it exactly: a number up to 2^53 - 1, a decimal string beyond. */
export const storedCounter = z
  .union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d{1,20}$/)])
  .transform((v) => BigInt(v))
  .refine((v) => v <= MAX_COUNTER, 'a HOTP counter is at most 2^64 - 1');

/** JSON.stringify replacer for bigints (the counters): numbers while exact, decimal strings beyond. */
export function counterJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? (value <= MAX_EXACT_COUNTER ? Number(value) : value.toString()) : value;
}

const storedToken = z
  .object({
    serial: z.string().min(1),
    type: z.enum(['totp', 'hotp']),
    algorithm: z.enum(['sha1', 'sha256', 'sha512']),
    digits: z.number().int().min(6).max(9),
    /** The device appends a Luhn check digit to each code (absent when not, and in stores written before it). */
    checkDigit: z.literal(true).optional(),
    period: z.number().int().positive().nullable(),
    /** Base64 of the seed bytes. Only ever inside the encrypted payload. */
    secret: z.string().min(1),
    fingerprint: z.string(),
    manufacturer: z.string().optional(),
    model: z.string().optional(),
    source: z.string().optional(),
    /** HOTP: a number, or a decimal string beyond 2^53 - 1 (RFC 4226 counters run to 2^64 - 1). */
    counter: storedCounter.nullable(),
    lastStep: z.number().int().nonnegative().nullable(),
    drift: z.number().int(),
  })
  .strict();

/**
 * A token no longer in the export: its seed's fingerprint and where its state stood, kept so that
 * the same token imported again carries on from there (a HOTP counter set back would accept its
 * used codes again). No secret.
 */
const retiredToken = z
  .object({
    serial: z.string().min(1),
    fingerprint: z.string(),
    type: z.enum(['totp', 'hotp']),
    period: z.number().int().positive().nullable(),
    counter: storedCounter.nullable(),
    lastStep: z.number().int().nonnegative().nullable(),
    drift: z.number().int(),
  })
  .strict();

const storedUser = z
  .object({
    username: z.string().min(1),
    /** users.csv user_group, when the export has one. */
    group: z.string().optional(),
    tokens: z.array(z.string()),
    fails: z.number().int().nonnegative(),
    lockedAt: z.number().int().nullable(),
    /** Failures per source since the last success (lockout.ts); absent in stores written before it. */
    sources: z.record(z.string(), z.object({ fails: z.number().int().nonnegative(), at: z.number().int() }).strict()).optional(),
  })
  .strict();

const storeDocument = z
  .object({
    format: z.literal(STORE_FORMAT),
    version: z.union([z.literal(1), z.literal(2)]),
    /** Random id of this store lineage; the journal names it so one store's journal never feeds another. */
    storeId: z.string().regex(/^[0-9a-f]{16}$/),
    /** Bumped on every rewrite (import, compaction); the journal of an older generation is already folded in. */
    gen: z.number().int().positive(),
    createdAt: z.string(),
    updatedAt: z.string(),
    /**
     * The journal that continues this generation: a random id its header must carry. A missing or
     * foreign journal is refused, not silently replaced (version 2; absent in version 1 stores).
     */
    journal: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/) }).strict().optional(),
    users: z.array(storedUser),
    tokens: z.array(storedToken),
    /** Tokens removed by an import, with their state (absent when none). */
    retired: z.array(retiredToken).optional(),
  })
  .strict();

export type StoredToken = z.output<typeof storedToken>;
export type StoredUser = z.output<typeof storedUser>;
export type RetiredToken = z.output<typeof retiredToken>;
export type StoreDocument = z.output<typeof storeDocument>;

const envelope = z.object({
  format: z.literal(STORE_FORMAT),
  version: z.union([z.literal(1), z.literal(2)]),
  cipher: z.literal('aes-256-gcm'),
  keyId: z.string(),
  iv: z.string(),
  tag: z.string(),
  ciphertext: z.string(),
});

/** The header fields are bound to the ciphertext as GCM additional data, so none can be swapped. */
function additionalData(keyId: string, version: number = STORE_VERSION): Buffer {
  return Buffer.from(JSON.stringify({ format: STORE_FORMAT, version, cipher: 'aes-256-gcm', keyId }));
}

/** The store file's bytes: a JSON envelope around the AES-256-GCM-encrypted document. */
export function encryptStore(doc: StoreDocument, key: Buffer): string {
  const keyId = storeKeyId(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(key, 'store-encryption'), iv);
  cipher.setAAD(additionalData(keyId));
  const plaintext = Buffer.from(JSON.stringify({ ...doc, version: STORE_VERSION }, counterJson));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return (
    JSON.stringify({
      format: STORE_FORMAT,
      version: STORE_VERSION,
      cipher: 'aes-256-gcm',
      keyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    }) + '\n'
  );
}

export function decryptStore(text: string, key: Buffer, file: string): StoreDocument {
  let outer: z.infer<typeof envelope>;
  try {
    outer = envelope.parse(JSON.parse(text));
  } catch {
    throw new StoreError(`${file}: not a shim token store (expected the JSON envelope written by \`mfa-migrate shim import\`)`);
  }
  const keyId = storeKeyId(key);
  if (outer.keyId !== keyId) {
    throw new StoreError(`${file}: the store was encrypted with another key (store key id ${outer.keyId}, given key id ${keyId})`);
  }
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(key, 'store-encryption'), Buffer.from(outer.iv, 'base64'));
    decipher.setAAD(additionalData(keyId, outer.version));
    decipher.setAuthTag(Buffer.from(outer.tag, 'base64'));
    plaintext = Buffer.concat([decipher.update(Buffer.from(outer.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new StoreError(`${file}: the store failed its integrity check (corrupted or modified); restore it or import again`);
  }
  try {
    const parsed = storeDocument.safeParse(JSON.parse(plaintext.toString('utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StoreError(`${file}: unexpected store content at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
    }
    return parsed.data;
  } finally {
    plaintext.fill(0);
  }
}

export async function readStoreFile(file: string, key: Buffer): Promise<StoreDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StoreError(code === 'ENOENT' ? `${file}: no such store (create it with \`mfa-migrate shim import\`)` : `${file}: cannot read the store (${code ?? String(err)})`);
  }
  return decryptStore(text, key, file);
}

/** Writes the store atomically, mode 0600. */
export async function writeStoreFile(file: string, doc: StoreDocument, key: Buffer): Promise<void> {
  await writeFileAtomic(file, encryptStore(doc, key), 0o600);
}

/** writeStoreFile's new store written and synced beside `file`, not yet in place. */
export function stageStoreFile(file: string, doc: StoreDocument, key: Buffer): Promise<StagedFile> {
  return stageFileAtomic(file, encryptStore(doc, key), 0o600);
}
