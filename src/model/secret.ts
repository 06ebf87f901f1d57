import { hash } from 'node:crypto';
import { Redacted } from './redacted.js';

const REDACTED = '[secret redacted]';
/** Passed to the constructor by adopt() only: take the bytes in place. */
const ADOPT = Symbol('adopt');

/** Length of a seed fingerprint: the first 16 hex characters of its SHA-256. */
const FINGERPRINT_LENGTH = 16;

/**
 * Secret bytes (an OATH seed, a key). The bytes are reachable only through `reveal()`, so that
 * logging, JSON.stringify, template strings and util.inspect can never print them by accident.
 */
export class Secret extends Redacted(REDACTED) {
  /** The bytes, once a Buffer of them exists. */
  #bytes: Buffer | undefined;
  /** Otherwise where they are: #store[#start..#end] (adopted secrets make their Buffer on first use). */
  #store: Uint8Array;
  #start: number;
  #end: number;

  /** A copy of `bytes` (the caller wipes its own). */
  constructor(bytes: Uint8Array);
  constructor(bytes: Uint8Array, how: typeof ADOPT, start: number, end: number);
  constructor(bytes: Uint8Array, how?: typeof ADOPT, start = 0, end = bytes.length) {
    super();
    if (how === ADOPT) {
      this.#store = bytes;
    } else {
      this.#bytes = Buffer.from(bytes);
      this.#store = this.#bytes;
    }
    this.#start = start;
    this.#end = end;
  }

  /**
   * Takes store[start..end] as it is, without a copy: the caller keeps no other use of those bytes.
   * (100,000 seeds arriving from the seed worker would otherwise cost 100,000 copies and Buffers.)
   */
  static adopt(store: Uint8Array, start: number, end: number): Secret {
    return new Secret(store, ADOPT, start, end);
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
}

export function secretFingerprint(bytes: Uint8Array): string {
  // crypto.hash (one-shot) is ~2x faster than createHash for small inputs; seed files hold 100k+ seeds.
  return hash('sha256', bytes, 'hex').slice(0, FINGERPRINT_LENGTH);
}
