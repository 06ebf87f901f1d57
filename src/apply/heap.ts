import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;
/** Heap in use after the last collection made here. */
let liveAfterLast = 0;

/** A collection is made only once the heap holds this much more than was live after the last one. */
const SLACK_BYTES = 64 * 1024 * 1024;

/**
 * Keeps a long apply's heap near what is live. Left alone, V8 lets the old generation grow to
 * several times the live set before collecting (the heap of a 100,000-user apply reached 300 MB
 * for some 50 MB live, and peak RSS 300-460 MB from run to run); the machine sees that as the
 * process's memory. Called between waves: when the heap has grown 64 MB past the last live size,
 * runs a full collection (a few tens of milliseconds for a heap this small), using V8's own gc
 * function exposed at run time; does nothing if that cannot be had.
 */
export function collectGarbageIfGrown(): void {
  const used = getHeapStatistics().used_heap_size;
  if (used < liveAfterLast + SLACK_BYTES) return;
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  if (!gc) return;
  gc();
  liveAfterLast = getHeapStatistics().used_heap_size;
}
