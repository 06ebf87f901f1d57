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
 * its results, releases its lock and names the command that finishes it); a second SIGINT exits at
 * once, and so does a run that has not wound down within `graceMs`, naming that command (`goOn`:
 * resume for an apply, rollback for a rollback). The journal stays true either way: what was left
 * `started` is read back by that command.
 */
export function watchInterrupts(say: (line: string) => void, goOn: () => string | undefined, graceMs = 60_000): Interrupts {
  const controller = new AbortController();
  let first: 'SIGINT' | 'SIGTERM' | undefined;
  let timer: NodeJS.Timeout | undefined;
  // The command that finishes the run, as the first signal's summary would have printed it (a black-box
  // test was told "resume" with no run id, for a rollback, which resume cannot finish).
  const next = () => {
    const command = goOn();
    return command ? `finish the run with ${command}, which reads back what was in flight` : 'no run was started yet, so nothing was sent';
  };
  const on = (sig: 'SIGINT' | 'SIGTERM') => {
    if (first) {
      say(`${sig} again: exiting now; ${next()}.`);
      process.exit(SIGNAL_EXIT[first]);
    }
    first = sig;
    say(`${sig}: sending nothing more; waiting for the batches in flight to be answered and journaled (${sig === 'SIGINT' ? 'Ctrl-C again' : 'SIGINT'} to exit at once)...`);
    controller.abort(new Error(sig));
    timer = setTimeout(() => {
      say(`still waiting after ${Math.round(graceMs / 1000)} s: exiting now; ${next()}.`);
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
