/** Exit status of a command stopped by a signal (128 + its number). */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

export interface Interrupts {
  signal: AbortSignal;
  /** The first signal received, if any. */
  received(): 'SIGINT' | 'SIGTERM' | undefined;
  dispose(): void;
}

/**
 * SIGINT/SIGTERM during a run: the first stops sending (the run journals what is in flight, writes
 * its results, releases its lock and says how to resume); a second SIGINT exits at once, and so does
 * a run that has not wound down within `graceMs`. The journal stays true either way: what was left
 * `started` is read back on resume.
 */
export function watchInterrupts(say: (line: string) => void, graceMs = 60_000): Interrupts {
  const controller = new AbortController();
  let first: 'SIGINT' | 'SIGTERM' | undefined;
  let timer: NodeJS.Timeout | undefined;
  const on = (sig: 'SIGINT' | 'SIGTERM') => {
    if (first) {
      say(`${sig} again: exiting now (resume reads back what was in flight).`);
      process.exit(SIGNAL_EXIT[first]);
    }
    first = sig;
    say(`${sig}: sending nothing more; waiting for the batches in flight to be answered and journaled (${sig === 'SIGINT' ? 'Ctrl-C again' : 'SIGINT'} to exit at once)...`);
    controller.abort(new Error(sig));
    timer = setTimeout(() => {
      say(`still waiting after ${Math.round(graceMs / 1000)} s: exiting now (resume reads back what was in flight).`);
      process.exit(SIGNAL_EXIT[sig]);
    }, graceMs);
    timer.unref();
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    received: () => first,
    dispose: () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
