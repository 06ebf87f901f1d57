import type { HmacKey } from '../model/hmac-key.js';
import { hotpKey, hotpValue, hotpValueOf, MAX_EXACT_COUNTER } from '../otp/hotp.js';
import type { ShimToken } from './store-model.js';
import { Redacted } from '../model/redacted.js';

const REDACTED = '[otp values redacted]';

/**
 * A token's recently computed OTP values, direct-mapped by counter (HOTP) or time step (TOTP). The
 * windows around the current counter or step overlap from one request to the next, so most checks
 * (accepts at the next counter, replays, retries) cost no HMAC at all. The table is at least as large
 * as the whole window, so values inside one window never evict each other. The values are as
 * sensitive as the seed: kept only in memory, never printed or persisted.
 */
export class OtpCache extends Redacted(REDACTED) {
  readonly #tags: Float64Array;
  readonly #values: Int32Array;
  readonly #mask: number;
  /** The token's HMAC key, made on the first miss (its seed's padded blocks: as secret as the seed). */
  #key: HmacKey | undefined;

  constructor(window: number) {
    super();
    let size = 4;
    while (size < window) size *= 2;
    this.#tags = new Float64Array(size).fill(-1);
    this.#values = new Int32Array(size);
    this.#mask = size - 1;
  }

  /**
   * The token's OTP value at `counter` (computed and remembered on a miss). HOTP counters come as
   * bigints (RFC 4226 runs to 2^64 - 1); those beyond 2^53 - 1 are computed every time (no exact
   * number tag for them; no token gets there by use).
   */
  value(token: ShimToken, counter: number | bigint): number {
    if (typeof counter === 'bigint') {
      if (counter > MAX_EXACT_COUNTER) return hotpValue(token.secret.reveal(), token.algorithm, counter, token.digits);
      counter = Number(counter);
    }
    const slot = counter & this.#mask;
    if (this.#tags[slot] === counter) return this.#values[slot]!;
    const value = hotpValueOf((this.#key ??= hotpKey(token.secret.reveal(), token.algorithm)), counter, token.digits);
    this.#tags[slot] = counter;
    this.#values[slot] = value;
    return value;
  }
}
