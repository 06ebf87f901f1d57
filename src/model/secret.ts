import { hash } from 'node:crypto';
import { inspect } from 'node:util';

const REDACTED = '[secret redacted]';
const EMPTY = new Uint8Array(0);

/** Length of a seed fingerprint: the first 16 hex characters of its SHA-256. */
export const FINGERPRINT_LENGTH = 16;

/**
 * Secret bytes (an OATH seed, a key). The bytes are reachable only through `reveal()`, so that
 * logging, JSON.stringify, template strings and util.inspect can never print them by accident.
 */
export class Secret {
  #bytes: Buffer;

  constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes);
  }

  /** Takes `bytes` as they are, without a copy: the caller keeps no other use of them. */
  static adopt(bytes: Buffer): Secret {
    const secret = new Secret(EMPTY);
    secret.#bytes = bytes;
    return secret;
  }

  /** The raw bytes. Call only where the secret is really needed (HMAC, encryption, a Graph body). */
  reveal(): Buffer {
    return this.#bytes;
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** First 16 hex characters of sha256(secret bytes): identifies a seed without disclosing it. */
  fingerprint(): string {
    return secretFingerprint(this.#bytes);
  }

  equals(other: Secret): boolean {
    return this.#bytes.equals(other.#bytes);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function secretFingerprint(bytes: Uint8Array): string {
  // crypto.hash (one-shot) is ~2x faster than createHash for small inputs; seed files hold 100k+ seeds.
  return hash('sha256', bytes, 'hex').slice(0, FINGERPRINT_LENGTH);
}
