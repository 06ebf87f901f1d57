import { unlinkSync } from 'node:fs';

/**
 * The temporary files this process is writing (the atomic writer's), removed when the process ends
 * while one is open: a Ctrl-C during `plan --report` of 100,000 users (a minute of writing) left the
 * report's first part hidden beside it until the next write of that file.
 *
 * A signal something else in the process listens to (apply's interrupts, shim serve's stop, the
 * progress bar's guard) is left to it: a command that goes on writes on, and its exit, or the signal
 * raised again, removes the files then. A signal nothing else listens to ends the process as it did
 * without this listener: the files are removed, then the signal is raised again with its default
 * action (the exit status a shell sees is the same, 130 for SIGINT). Only while a file is open, so
 * at other times the signals are not listened to at all.
 */
const open = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `path` is being written: removed if the process ends before tempFileDone(path). */
export function tempFileOpen(path: string): void {
  if (open.size === 0) {
    // First in line: the others are counted before they run (shim serve's stop listener removes itself
    // as it runs, and after it the count said nothing else handled the signal: a review).
    for (const s of SIGNALS) process.prependListener(s, onSignal);
    process.on('exit', removeOpen);
  }
  open.add(path);
}

/** `path` is renamed into place or removed: nothing to do for it at the end any more. */
export function tempFileDone(path: string): void {
  if (open.delete(path) && open.size === 0) stopListening();
}

function stopListening(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('exit', removeOpen);
}

function removeOpen(): void {
  for (const path of open) {
    try {
      unlinkSync(path);
    } catch {
      // Not made yet, or gone: nothing to remove.
    }
  }
  open.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  removeOpen();
  stopListening();
  // With no listener left, node gives the signal its default action again: the process ends by it.
  process.kill(process.pid, signal);
}
