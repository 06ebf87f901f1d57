import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds something: enough to tell, on this host, whether that very process still runs. */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /**
   * When the process started, as `<boot id>:<start time in clock ticks since boot>` (Linux: field 22
   * of /proc/PID/stat, and /proc/sys/kernel/random/boot_id). A pid reused by a later process, or
   * after a reboot, has another value. Absent where it cannot be read (then the pid alone decides).
   */
  processStart?: string;
}

let bootId: string | null | undefined;

/** This boot's id (a UUID the kernel draws at boot); null off Linux. The boot id, not btime: btime shifts with clock changes. */
function currentBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

/**
 * Whether a process with this pid exists (zombies count as gone: they can no longer act), and its
 * start, where it can be read.
 */
export function processState(pid: number): { running: false } | { running: true; start?: string } {
  if (!Number.isSafeInteger(pid) || pid <= 0) return { running: false };
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return { running: false };
  }
  const boot = currentBootId();
  if (boot === null) return { running: true };
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    // Hidden from us (/proc mounted with hidepid) or gone just now: assume it runs, start unknown.
    return { running: true };
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return { running: false };
  const ticks = fields[19]; // field 22 of the line; field 3 (state) is fields[0]
  return ticks && /^\d+$/.test(ticks) ? { running: true, start: `${boot}:${ticks}` } : { running: true };
}

/** This process's identity, for recording in a lock. */
export function ownIdentity(): ProcessIdentity {
  const state = processState(process.pid);
  return { pid: process.pid, host: hostname(), ...(state.running && state.start ? { processStart: state.start } : {}) };
}

/**
 * Whether the recorded process still runs. A holder on another host cannot be checked from here and
 * counts as running; on this host the pid must run and, when both are known, have the recorded start.
 */
export function identityAlive(who: ProcessIdentity): boolean {
  if (who.host !== hostname()) return true;
  const state = processState(who.pid);
  if (!state.running) return false;
  return !(who.processStart && state.start && who.processStart !== state.start);
}
