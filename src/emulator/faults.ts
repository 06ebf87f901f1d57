import { Prng } from './prng.js';

export interface Fault {
  status: 500 | 502 | 503 | 504;
  code: string;
  message: string;
  /** For a write: the change is made before the error is returned, as when the response is lost on the way back. */
  applyFirst: boolean;
}

const FAULTS: Omit<Fault, 'applyFirst'>[] = [
  { status: 500, code: 'generalException', message: 'An unspecified error has occurred.' },
  { status: 502, code: 'BadGateway', message: 'The server received an invalid response from an upstream server.' },
  { status: 503, code: 'serviceNotAvailable', message: 'The service is temporarily unavailable. Please retry later.' },
  { status: 504, code: 'GatewayTimeout', message: 'The gateway did not receive a response in time.' },
];

/** Share of faulted writes that are applied before the error is returned. */
export const APPLIED_FAULT_SHARE = 0.5;

/**
 * --fault-rate P: each Graph operation (a direct request or a $batch item) is answered with a 5xx with
 * probability P. Draws come from a PRNG seeded by --seed, in the order operations arrive, so the same
 * sequence of requests meets the same faults.
 */
export class FaultInjector {
  readonly #prng: Prng;

  constructor(
    readonly rate: number,
    seed: number,
  ) {
    this.#prng = new Prng(seed, 'faults');
  }

  next(isWrite: boolean): Fault | undefined {
    if (this.rate <= 0) return undefined;
    if (this.#prng.next() >= this.rate) return undefined;
    const base = FAULTS[this.#prng.int(FAULTS.length)]!;
    const applyFirst = isWrite && this.#prng.next() < APPLIED_FAULT_SHARE;
    return { ...base, applyFirst };
  }
}
