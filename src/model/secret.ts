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
  /** The bytes, once a Buffer of them exists. */
  #bytes: Buffer | undefined;
  /** Otherwise where they are: #store[#start..#end] (adopted secrets make their Buffer on first use). */
  #store: Uint8Array;
  #start: number;
  #end: number;

  constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes);
    this.#store = this.#bytes;
    this.#start = 0;
    this.#end = this.#bytes.length;
  }

  /**
   * Takes store[start..end] as it is, without a copy: the caller keeps no other use of those bytes.
   * (100,000 seeds arriving from the seed worker would otherwise cost 100,000 copies and Buffers.)
   */
  static adopt(store: Uint8Array, start: number, end: number): Secret {
    const secret = new Secret(EMPTY);
    secret.#bytes = undefined;
    secret.#store = store;
    secret.#start = start;
    secret.#end = end;
    return secret;
  }

  /** The raw bytes. Call only where the secret is really needed (HMAC, encryption, a Graph body). */
  reveal(): Buffer {
    return (this.#bytes ??= Buffer.from(this.#store.buffer, this.#store.byteOffset + this.#start, this.#end - this.#start));
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** First 16 hex characters of sha256(secret bytes): identifies a seed without disclosing it. */
  fingerprint(): string {
    return secretFingerprint(this.reveal());
  }

  equals(other: Secret): boolean {
    return this.reveal().equals(other.reveal());
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
