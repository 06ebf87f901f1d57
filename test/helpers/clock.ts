import { afterAll, beforeAll, vi } from 'vitest';

/**
 * For the tests of a file: the clock (Date only; timers and performance.now() stay real) starts
 * 500 ms into a step of `stepMs` and runs on from there, and is put back after the file (the file
 * shares its worker with others). An activation's code is sent only with 5 s of its TOTP step left
 * (src/apply/activation-code.ts): begun late in a step, a test's activations wait for the next one,
 * and timings it asserts on move.
 */
export function clockAtStepStart(stepMs: number): void {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Math.ceil(Date.now() / stepMs) * stepMs + 500 });
  });
  afterAll(() => {
    vi.useRealTimers();
  });
}
