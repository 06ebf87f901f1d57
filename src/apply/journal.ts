import { currentOperator, type Operator } from './operator.js';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { appendSynced, syncDescriptor, syncDirectory } from '../io/fsync.js';
import { cliCommand } from '../model/command-line.js';
import { UserError } from '../model/user-error.js';
import { NewerPlanError, readPlanHeader } from '../plan/plan-file.js';
import { undoneJournalMismatch, type UndoneJournalRecord } from './undone-journal-record.js';
import { STALE } from './stale-record.js';
import { planCopyLoss, planCopyLostText } from './plan-copy-loss.js';
import type { UnreversibleKind } from './rollback-inverses.js';

export type OpState = 'pending' | 'started' | 'done' | 'failed' | 'skipped';
export type RunKind = 'apply' | 'rollback';
export type RunState = 'running' | 'completed' | 'partial' | 'stopped' | 'interrupted';

export interface RunHeader {
  t: 'run';
  id: string;
  kind: RunKind;
  created: string;
  /** sha256 of the plan file's bytes (apply) or of the run rolled back (rollback). */
  planHash: string;
  /** The Graph root the run writes to (runs before tenant binding have none). */
  graph?: string;
  /** The tenant the run writes to, as GET /organization named it. */
  tenant?: { id: string; displayName: string };
  /** Who signed in, as the access token says. */
  identity?: { appId: string | null; upn: string | null };
  /** The tool's version, the OS account and the machine that made the run (journals before it have none). */
  operator?: Operator;
  /** The plan copy's file name in the run folder: plan.jsonl (2.x) or plan.json (1.x). */
  planFile?: string;
  /** The run a rollback undoes. */
  rollbackOf?: string;
  /** A rollback's: what Graph cannot undo, left in place, with why (users by UPN; no secrets, no phone numbers) and its kind (none in a rollback written before it: nothing reads it back to judge). */
  notReversible?: { user?: string; target: string; reason: string; kind?: UnreversibleKind }[];
  /** A rollback's: what Graph cannot undo that was gone already when it started (removed outside this tool): not left in place. */
  notReversibleGone?: { user?: string; target: string }[];
  /**
   * A rollback's: the undone run's journal as the rollback found it when it started (its whole lines and
   * the last one's hash), what it read to undo. That journal may only grow since (a later read-back):
   * lines taken off its end, or rewritten, leave a chain of its own that verifies, so this is checked.
   * Absent in rollbacks made before it, and for an undone journal written before the chain.
   */
  undoneJournal?: UndoneJournalRecord;
  options: Record<string, unknown>;
  totalOps: number;
  /** An apply's token activations of all its users (the ETA's floor at the activation pace); absent in runs made before it. */
  activations?: number;
}

/** How the executor words a failure whose read-back failed too (what marks it in journals written before `outcomeUnknown`). */
export const OUTCOME_UNKNOWN_WORDING = '; outcome unknown: ';

export interface OpRecord {
  op: string;
  state: OpState;
  /** Tenant state before the operation (for rollback); never a secret. */
  before?: unknown;
  /** What the operation produced that later steps need (a created token's id). */
  result?: Record<string, unknown>;
  error?: string;
  /**
   * A failure whose write may have been applied (sent, answered with no outcome, and the read-back
   * failed too): rollback reads it back. `false` once read back and found not applied.
   */
  outcomeUnknown?: boolean;
  /**
   * A bulk token create settled failed (or skipped) by a pass that knew an earlier send of it may have
   * made tokens (its answer lost, then a re-send refused outright): a resume credits the run with what
   * it finds beyond the journaled `before.present`. Absent on a definite refusal with no such send
   * before it: a resume then credits nothing it finds (an admin's upload of the same serials is not
   * the run's). Older readers ignore it.
   */
  earlierSendMayHaveMade?: true;
  /** Graph's `request-id` of the answer (the $batch item's, else the envelope's): what Microsoft support asks for. */
  requestId?: string;
  /** Done as found by reading the tenant back, not by Graph's answer to it: why it was read back (its answer lost, left started by an earlier pass). */
  readBack?: string;
  /**
   * Skipped with the error `stale`: why its user (or the policy) was left out, each object that changed
   * since the plan with why, in the pre-flight's words (stale-record.ts). Absent in journals before it;
   * older readers ignore it.
   */
  staleReason?: string;
}

/**
 * The hash chain: every line ends with `"hash"`, the SHA-256 (hex) of the previous line's hash
 * followed by this line's bytes without its hash member; the first line's "previous hash" is the
 * plan hash it records. An edit of any line breaks the chain from that line on.
 */
export function chainHash(previous: string, lineWithoutHash: string): string {
  return createHash('sha256').update(previous).update(lineWithoutHash).digest('hex');
}

/** The hash member as the journal writes it: always last on its line. */
const HASH_MEMBER = /,"hash":"([0-9a-f]{64})"\}$/;

/** A line's hash and the line without it, or undefined for a line written before the chain. */
export function splitHash(line: string): { hash: string; body: string } | undefined {
  const m = HASH_MEMBER.exec(line);
  return m ? { hash: m[1]!, body: `${line.slice(0, m.index)}}` } : undefined;
}

/** A later pass of the run (resume, or a rollback finished): when, who signed in, with what options. */
export interface ResumeRecord {
  at: string;
  identity: { appId: string | null; upn: string | null };
  /** The pass's tool version, OS account and machine (journals before it have none). */
  operator?: Operator;
  options: Record<string, unknown>;
}

/**
 * A rollback pass's: what --leave-switched-without-method took all the same, every one named (the
 * warning and the summary name the first few): the run's users still switched to Entra MFA (`by`:
 * what switches them), the users outside the run the methods policy's undo left with no method they
 * can use (`unread`: members not read, so their count is a floor), or why who is switched could not
 * be read. The run report lists them (a journal of a version before report JSON 1.11 holds none).
 */
export interface LeftWithoutMethodRecord {
  at: string;
  users: { user: string; by: string }[];
  others?: { users: string[]; by: string[]; unread: number };
  unread?: string;
}

type Line = RunHeader | ({ t: 'left' } & LeftWithoutMethodRecord) | ({ t: 'resume' } & ResumeRecord) | ({ t: 'settle' } & ResumeRecord) | { t: 'ops'; at: string; ops: OpRecord[] } | { t: 'wave'; at: string; wave: number; state: 'started' | 'done' } | { t: 'end'; at: string; state: Exclude<RunState, 'running' | 'interrupted'>; counts: Record<OpState, number> };

/** The state of a run, replayed from its journal. */
export interface RunView {
  header: RunHeader;
  ops: Map<string, OpRecord>;
  /** Operation ids in the order they were done (rollback undoes them in reverse). */
  doneOrder: string[];
  wavesDone: number;
  end?: { state: Exclude<RunState, 'running' | 'interrupted'>; at: string; counts: Record<OpState, number> };
  /** Time of the last record. */
  last: string;
  /** Time of each operation's last record (its outcome, or its start when it has none). */
  times: Map<string, string>;
  /** Lines that could not be read (a torn last line is not one): the run is read without them. */
  problems: string[];
  /** Each later pass of the run, in order (journals before these records: none). */
  resumes: ResumeRecord[];
  /** Each read-back of its writes of unknown outcome by a rollback (`options`: how many were found applied and not). */
  readBacks: ResumeRecord[];
  /** A rollback's: what each pass took with --leave-switched-without-method, every one named. */
  leftWithoutMethod: LeftWithoutMethodRecord[];
}

/**
 * A run's journal: JSON lines, append-only, each append fsynced before it returns. A crash at any
 * instant leaves every acknowledged record on disk and at most one torn last line, which replay
 * ignores. Operations are recorded `started` before they are sent and `done`/`failed` after, so
 * an operation left `started` by a crash has an unknown outcome and is re-read before it is
 * retried. Secrets are never written.
 */
export class Journal {
  /** Appends in the order they were asked for (their hashes chain in that order). */
  private queue: Promise<void> = Promise.resolve();
  /** The first write that failed: later lines would chain from a line that is not on disk. */
  private failed: JournalWriteError | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    private fh: FileHandle,
    /** The last line's hash (undefined: a journal written before the chain, continued without one). */
    private last: string | undefined,
    /** The command that goes on after a failed write (words after `mfa-migrate`). */
    private readonly goOn: readonly string[],
  ) {}

  /** The hash of the last line written: what apply, resume and rollback print at the end. */
  get head(): string | undefined {
    return this.last;
  }

  /**
   * Makes a run's folder and its journal. The folder is filled under a hidden name (by `fill`, then
   * the header) and renamed in whole: a crash leaves no run, or a run whose journal says what it is;
   * never a run folder `runs` cannot read. Called under the state folder's lock, so any hidden folder
   * left beside it is a dead process's (nothing was sent for it) and is removed.
   */
  static async create(runDir: string, header: RunHeader, fill?: (dir: string) => Promise<void>): Promise<Journal> {
    const runsDir = dirname(runDir);
    const made = await mkdir(runsDir, { recursive: true, mode: 0o700 });
    // A `runs` folder made just now: its entry (and any folder made above it) synced, or a crash could lose the whole folder with the run in it.
    if (made !== undefined) for (let dir = runsDir; dir !== dirname(made); dir = dirname(dir)) await syncDirectory(dirname(dir));
    for (const name of await readdir(runsDir)) {
      if (isUnfinishedRunDir(name)) await rm(join(runsDir, name), { recursive: true, force: true });
    }
    const staging = join(runsDir, `.${basename(runDir)}.new`);
    let fh: FileHandle | undefined;
    try {
      await mkdir(staging, { mode: 0o700 });
      await fill?.(staging);
      fh = await open(join(staging, 'journal.jsonl'), 'wx', 0o600);
      const j = new Journal(runDir, fh, header.planHash, goOnWith(runDir, header.kind));
      await j.write([{ ...header, operator: header.operator ?? currentOperator() }]);
      await syncDirectory(staging);
      await rename(staging, runDir);
      try {
        await syncDirectory(runsDir);
      } catch (err) {
        // Not known to be on disk, and the caller says nothing was sent: no run may stay for a resume to pick up.
        await rm(runDir, { recursive: true, force: true }).catch(() => undefined);
        throw err;
      }
      return j;
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      // No run was made: there is none to go on with, only the command to run again.
      const cause = err instanceof JournalWriteError ? err.cause : err;
      const problem = storageProblem(cause);
      if (problem) throw new UserError(`cannot make the folder of a new run in ${runsDir} (${problem}): nothing was sent. Make room (or make it writable), then run the command again`, 1, { cause });
      throw err;
    }
  }

  /**
   * Opens a run's journal to go on with it. A line torn by a crash (or a full disk) is cut off
   * first, so the next record starts on a line of its own and the journal stays readable.
   */
  static async append(runDir: string, goOn?: readonly string[]): Promise<Journal> {
    const path = join(runDir, 'journal.jsonl');
    const fh = await open(path, 'r+');
    try {
      const { size } = await fh.stat();
      const tail = Buffer.alloc(Math.min(size, 1 << 20));
      // Walk back, 1 MiB at a time, to the last newline: everything up to it is kept. (A journal
      // that ends with one keeps every byte: the walk stops at the first newline it finds, which
      // may be the very last byte.)
      let keep: number | undefined;
      for (let end = size; end > 0 && keep === undefined; ) {
        const start = Math.max(0, end - tail.length);
        const { bytesRead } = await fh.read(tail, 0, end - start, start);
        const nl = tail.subarray(0, bytesRead).lastIndexOf(0x0a);
        if (nl >= 0) keep = start + nl + 1;
        end = start;
      }
      keep ??= 0;
      if (keep < size) {
        await fh.truncate(keep);
        await syncDescriptor(fh.fd);
      }
      // The chain goes on from the last whole line's hash (none: the journal predates the chain).
      const last = splitHash(await lastLine(fh, keep));
      await fh.close();
      // Read before the journal is opened for appending: a failure then leaves no handle open.
      const next = goOn ?? goOnWith(runDir, (await readRunHeader(runDir))?.kind ?? 'apply');
      return new Journal(runDir, await open(path, 'a', 0o600), last?.hash, next);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async ops(ops: OpRecord[]): Promise<void> {
    if (ops.length > 0) await this.write([{ t: 'ops', at: new Date().toISOString(), ops }]);
  }

  /**
   * Records that a rollback read back the run's writes of unknown outcome (who, when, what it found)
   * and the records it found, in one synced append: the two lines are one unit. A read-back counts
   * only when its `ops` line follows it (readRun), so one cut off between them (a full disk) is not
   * listed, and the next rollback's read-back is the only one.
   */
  async settled(identity: ResumeRecord['identity'], options: Record<string, unknown>, records: OpRecord[]): Promise<void> {
    const at = new Date().toISOString();
    await this.write([
      { t: 'settle', at, identity, operator: currentOperator(), options },
      { t: 'ops', at, ops: records },
    ]);
  }

  /** Records a later pass of the run: an auditor sees who went on with it, when. */
  async resumed(identity: ResumeRecord['identity'], options: Record<string, unknown>): Promise<void> {
    await this.write([{ t: 'resume', at: new Date().toISOString(), identity, operator: currentOperator(), options }]);
  }

  /** What --leave-switched-without-method took in this pass, every one named (LeftWithoutMethodRecord). */
  async leftWithoutMethod(record: Omit<LeftWithoutMethodRecord, 'at'>): Promise<void> {
    await this.write([{ t: 'left', at: new Date().toISOString(), ...record }]);
  }

  async wave(wave: number, state: 'started' | 'done'): Promise<void> {
    await this.write([{ t: 'wave', at: new Date().toISOString(), wave, state }]);
  }

  async end(state: Exclude<RunState, 'running' | 'interrupted'>, counts: Record<OpState, number>): Promise<void> {
    await this.write([{ t: 'end', at: new Date().toISOString(), state, counts }]);
  }

  /** Closes the journal's file; closing it again does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }

  /**
   * Runs the steps between opening the journal and handing it to the executor (whose end closes it): a
   * step that fails (a full disk on the first records, say) closes it, so no handle is left to the GC.
   */
  async beforeHandOver<T>(steps: () => Promise<T>): Promise<T> {
    try {
      return await steps();
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  private write(lines: Line[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    // Hashed now, in the order asked, and appended in that order.
    const text = lines
      .map((l) => {
        const body = JSON.stringify(l);
        if (this.last === undefined) return `${body}\n`;
        this.last = chainHash(this.last, body);
        return `${body.slice(0, -1)},"hash":"${this.last}"}\n`;
      })
      .join('');
    const done = this.queue.then(async () => {
      if (this.failed) throw this.failed;
      try {
        await appendSynced(this.fh, text);
      } catch (err) {
        throw (this.failed ??= new JournalWriteError(this.dir, err, this.goOn));
      }
    });
    this.queue = done.catch(() => undefined);
    return done;
  }
}

/** The last line of the first `end` bytes of a file (without its newline); '' when there is none. */
async function lastLine(fh: FileHandle, end: number): Promise<string> {
  if (end === 0) return '';
  const stop = end - 1; // the newline that ends the last line
  let chunk = 64 * 1024;
  for (;;) {
    const from = Math.max(0, stop - chunk);
    const buf = Buffer.alloc(stop - from);
    await fh.read(buf, 0, buf.length, from);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0 || from === 0) {
      return buf.toString('utf8', nl >= 0 ? nl + 1 : 0);
    }
    chunk *= 4;
  }
}

const STORAGE_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EIO: 'the disk failed to write',
};

/** A storage error's code named for the admin (the disk is full...), or undefined for other errors. */
export function storageProblem(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code && Object.hasOwn(STORAGE_ERRORS, code) ? `${code}: ${STORAGE_ERRORS[code]}` : undefined;
}

/**
 * The journal could not be written: the run stops sending (an operation is never sent unjournaled);
 * what is journaled stays true (a torn last line is cut off when the run is resumed).
 */
export class JournalWriteError extends UserError {
  constructor(runDir: string, cause: unknown, goOn: readonly string[]) {
    const code = (cause as NodeJS.ErrnoException).code ?? '';
    const what = STORAGE_ERRORS[code] ?? (cause as Error).message;
    const id = basename(runDir);
    super(`cannot write ${join(runDir, 'journal.jsonl')}, the journal of run ${id} (${code || 'error'}: ${what}): nothing more was sent. Make room (or make it writable), then go on with ${cliCommand(goOn)}: what is journaled is true`, 1, { cause });
  }
}

/** How a run goes on after its journal could not be written: an apply by `resume`, a rollback by `rollback` (resume takes apply runs only). */
export function goOnWith(runDir: string, kind: RunKind): string[] {
  return [kind === 'rollback' ? 'rollback' : 'resume', basename(runDir), '--state-dir', dirname(dirname(runDir))];
}

/** A run folder being made (Journal.create), or left half-made by a crash: not a run. */
function isUnfinishedRunDir(name: string): boolean {
  return /^\..+\.new$/.test(name);
}

/**
 * A run's header alone (the journal's first line), read without the rest: what sizing a resume or
 * rollback needs, where reading a 100,000-user journal whole held hundreds of MB. Undefined when
 * the journal has no readable header.
 */
export async function readRunHeader(runDir: string, headerLines?: HeaderLines): Promise<RunHeader | undefined> {
  const text = await headerLineOf(runDir, headerLines);
  if (text === undefined) return undefined;
  try {
    const line = JSON.parse(text) as Partial<RunHeader>;
    return line.t === 'run' ? (line as RunHeader) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the journal in run folder `folderId` is not that run's, or undefined when it is. Every reader
 * takes a run by its folder's name, and its header (under the hash chain) names the run it was written
 * for: two runs of one plan share the plan hash their chains start from, so each journal verifies in
 * the other's folder (an auditor swapped two and both passed, and a rollback of one undid the other).
 */
export function journalOfAnotherRun(folderId: string, header: Pick<RunHeader, 'id' | 'kind'>): string | undefined {
  if (header.id === folderId) return undefined;
  return `the journal in run ${folderId}'s folder is run ${String(header.id)}'s, ${header.kind === 'rollback' ? 'a rollback' : header.kind === 'apply' ? 'an apply' : 'a run'} (its header names that run, under the hash chain), not run ${folderId}'s: moved or copied there from another run's folder`;
}

/** A journal's first line as written (its hash included), read without the rest; undefined when there is none to read. */
async function readHeaderLine(runDir: string): Promise<string | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(join(runDir, 'journal.jsonl'), 'r');
    const buf = Buffer.alloc(64 * 1024);
    let text = '';
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      text += buf.toString('utf8', 0, bytesRead);
      pos += bytesRead;
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        text = text.slice(0, nl);
        break;
      }
      // A header is a few KB (its options name the users of a narrowed run): a line past 16 MB is no header.
      if (pos > 16 * 1024 * 1024) return undefined;
    }
    return text;
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * A chained journal's whole lines and the last one's hash (a torn last line is not one of them), read
 * without checking the chain; undefined for a journal written before the chain.
 */
export async function journalTip(runDir: string): Promise<{ lines: number; hash: string } | undefined> {
  // Newlines counted in the bytes and the last whole line alone decoded: the journal as one string, split
  // into lines, was a 50 MB string at 100,000 users, and the hash (a slice of it) kept it alive through
  // the whole rollback. What follows the last newline is a torn line, not counted (as readRun reads it).
  const bytes = await readFile(join(runDir, 'journal.jsonl'));
  let lines = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) lines++;
  if (lines === 0) return undefined;
  const end = bytes.lastIndexOf(0x0a);
  const start = end === 0 ? 0 : bytes.lastIndexOf(0x0a, end - 1) + 1;
  const last = splitHash(bytes.toString('utf8', start, end));
  return last ? { lines, hash: last.hash } : undefined;
}

export async function readRun(runDir: string): Promise<RunView> {
  const text = await readFile(join(runDir, 'journal.jsonl'), 'utf8');
  let header: RunHeader | undefined;
  const ops = new Map<string, OpRecord>();
  const doneOrder: string[] = [];
  const times = new Map<string, string>();
  let wavesDone = 0;
  let end: RunView['end'];
  let last = '';
  const problems: string[] = [];
  const resumes: ResumeRecord[] = [];
  const readBacks: ResumeRecord[] = [];
  const leftWithoutMethod: LeftWithoutMethodRecord[] = [];
  // A read-back is whole once its records follow it: a settle line with no ops line next (cut off by
  // a full disk before this version wrote them in one append) was never acted on, and is not listed.
  let settling: ResumeRecord | undefined;
  const lines = text.split('\n');
  // What follows the last newline is a line torn by a crash (or a full disk), even when it parses:
  // it is not read, as going on with the run (Journal.append) cuts it off and the chain check leaves it out.
  lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      // Damage: reported, and the run is read from every line that is whole.
      problems.push(`line ${i + 1} is not valid JSON`);
      continue;
    }
    if (settling && line.t === 'ops') readBacks.push(settling);
    settling = undefined;
    switch (line.t) {
      case 'run':
        header = line;
        last = line.created;
        break;
      case 'ops':
        for (const o of line.ops) {
          if (o.state === 'done' && ops.get(o.op)?.state !== 'done') doneOrder.push(o.op);
          const merged: OpRecord = { ...ops.get(o.op), ...o };
          // An error of an earlier attempt is not the outcome of one that ended done.
          if (o.state === 'done' && o.error === undefined) delete merged.error;
          // Why an earlier record left it out as stale is that record's alone.
          if (o.staleReason === undefined) delete merged.staleReason;
          // Nor is an earlier send's unknown outcome the outcome of a later record (done, or failed with Graph's answer).
          if (o.outcomeUnknown === undefined) delete merged.outcomeUnknown;
          // An earlier send that may have made tokens stays so (a later `started` or refusal does not
          // unmake them) until the create is done, crediting what it found.
          if (o.state === 'done' && o.earlierSendMayHaveMade === undefined) delete merged.earlierSendMayHaveMade;
          ops.set(o.op, merged);
          times.set(o.op, line.at);
        }
        last = line.at;
        break;
      case 'resume':
        resumes.push({ at: line.at, identity: line.identity, ...(line.operator ? { operator: line.operator } : {}), options: line.options });
        // A later pass began: the end an earlier pass wrote (stopped by --waves, partial) no longer
        // says where the run stands; this pass's own end will, or its absence says it was cut short.
        end = undefined;
        last = line.at;
        break;
      case 'settle':
        // A rollback read back writes of unknown outcome and journaled them here: said apart from the
        // later passes (it wrote nothing), and the run's own end still says where it stands.
        settling = { at: line.at, identity: line.identity, ...(line.operator ? { operator: line.operator } : {}), options: line.options };
        last = line.at;
        break;
      case 'wave':
        if (line.state === 'done') wavesDone = Math.max(wavesDone, line.wave);
        last = line.at;
        break;
      case 'end':
        end = { state: line.state, at: line.at, counts: line.counts };
        last = line.at;
        break;
      case 'left': {
        const { t: _t, ...record } = line;
        leftWithoutMethod.push(record);
        last = line.at;
        break;
      }
    }
  }
  if (!header) throw new UserError(`${runDir}/journal.jsonl has no run header: it cannot be read`);
  return { header, ops, doneOrder, wavesDone, ...(end ? { end } : {}), last, times, problems, resumes, readBacks, leftWithoutMethod };
}

export function countStates(ops: Iterable<OpRecord>, total: number): Record<OpState, number> {
  const counts: Record<OpState, number> = { pending: 0, started: 0, done: 0, failed: 0, skipped: 0 };
  let seen = 0;
  for (const o of ops) {
    counts[o.state]++;
    seen++;
  }
  counts.pending += Math.max(0, total - seen);
  return counts;
}

export interface RunSummary {
  id: string;
  /** `unknown` for a run whose journal has no readable header. */
  kind: RunKind | 'unknown';
  state: RunState | 'unreadable';
  started: string;
  finished: string | null;
  counts: Record<OpState, number>;
  tenant: { id: string; displayName: string } | null;
  graph: string | null;
  /** The apply run this rollback undoes. */
  rollback_of: string | null;
  /** The rollback runs of this apply run, oldest first. */
  rolled_back_by: string[];
  /** Why the journal could not be read whole (damaged lines), when it could not. */
  problem?: string;
  /**
   * An apply run's: of `counts.skipped`, the operations left out as stale, which no resume sends (the
   * others, skipped after a failure or held back, a resume tries again).
   */
  skipped_stale?: number;
  /**
   * A run a later build started (a rollback's: whose undone run `run` is such a run): its plan copy's
   * format, later than this build reads, and the build its journal names (null when none). This build
   * does not carry it on, report or verify it (newer-run.ts); `runs` says so rather than check it.
   */
  later_build?: { run: string; plan_format: string; tool_version: string | null };
}

/** Every run in the state directory, newest first; one whose journal cannot be read is listed with the reason. */
export async function listRuns(stateDir: string, isActive: (id: string) => boolean = () => false): Promise<RunSummary[]> {
  const runsDir = join(stateDir, 'runs');
  const ids = await readdir(runsDir).catch(() => [] as string[]);
  const out: RunSummary[] = [];
  const zero = { pending: 0, started: 0, done: 0, failed: 0, skipped: 0 };
  for (const id of ids) {
    if (isUnfinishedRunDir(id)) continue;
    let view: RunView;
    try {
      view = await readRun(join(runsDir, id));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') continue;
      const problem = code === 'ENOENT' ? 'it has no journal' : (err as Error).message;
      out.push({ id, kind: 'unknown', state: 'unreadable', started: '', finished: null, counts: zero, tenant: null, graph: null, rollback_of: null, rolled_back_by: [], problem });
      continue;
    }
    // Another run's journal is not read as this one's (what it did, what undoes it): the run cannot be read.
    const other = journalOfAnotherRun(id, view.header);
    if (other) {
      out.push({ id, kind: 'unknown', state: 'unreadable', started: '', finished: null, counts: zero, tenant: null, graph: null, rollback_of: null, rolled_back_by: [], problem: other });
      continue;
    }
    const state: RunState = view.end ? view.end.state : isActive(id) ? 'running' : 'interrupted';
    out.push({
      id,
      kind: view.header.kind,
      state,
      started: view.header.created,
      finished: view.end?.at ?? null,
      counts: countStates(view.ops.values(), view.header.totalOps),
      tenant: view.header.tenant ?? null,
      graph: view.header.graph ?? null,
      rollback_of: view.header.rollbackOf ?? null,
      rolled_back_by: [],
      ...(view.problems.length > 0 ? { problem: `damaged journal: ${view.problems.join('; ')}` } : {}),
      // Skipped with the error `stale` (run-apply.ts journals them so).
      ...(view.header.kind === 'apply' ? { skipped_stale: [...view.ops.values()].filter((o) => o.state === 'skipped' && o.error === STALE).length } : {}),
    });
  }
  const byId = new Map(out.map((r) => [r.id, r]));
  for (const r of [...out].sort((a, b) => a.started.localeCompare(b.started))) {
    if (r.rollback_of) byId.get(r.rollback_of)?.rolled_back_by.push(r.id);
  }
  return out.sort((a, b) => b.started.localeCompare(a.started) || b.id.localeCompare(a.id));
}

/** What `runs verify` found: the chain whole, broken at a line, or a journal written before the chain. */
export type JournalCheck =
  | {
      state: 'verified';
      lines: number;
      planHash: string;
      head: string;
      /** A last line left incomplete by a crash while it was written (not an edit: resume and rollback cut it off); `lines` and `head` are of the whole lines before it. */
      tornLine?: number;
    }
  | {
      state: 'broken';
      line: number;
      reason: string;
      /**
       * When the journal's lines are whole but what its header points at is not: the plan copy was
       * changed, or cannot be read, or the run a rollback undoes cannot be read or records another plan.
       */
      about?: 'plan-copy-changed' | 'plan-copy-unreadable' | 'undone-run';
      /** With `plan-copy-changed`: the copy is empty or cut short, as a crash leaves it, and `reason` says so (not an edit). */
      lost?: boolean;
      /** With `about`, when the journal's own chain is whole: its lines and final hash (an auditor compares it with the one noted). */
      lines?: number;
      head?: string;
    }
  | { state: 'unverifiable'; reason: string };

/**
 * Checks a run's journal line by line: each line's hash must be the SHA-256 of the previous hash and
 * the line without its hash, starting from the plan hash of the first line; and that plan hash must
 * be the run's plan copy's (an apply) or the undone run's (a rollback). Names the first bad line.
 */
export async function verifyJournal(runDir: string, opts: { planCopy?: boolean; headerLines?: HeaderLines } = {}): Promise<JournalCheck> {
  const bytes = await readFile(join(runDir, 'journal.jsonl'));
  const text = bytes.toString('utf8');
  const lines = text.split('\n');
  const torn = lines.pop();
  let previous: string | undefined;
  let header: RunHeader | undefined;
  // What each rollback of an apply recorded of its journal, and the hashes of the lines they name.
  let records: RollbackRecord[] = [];
  const hashAt = new Map<number, string>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const n = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return { state: 'broken', line: n, reason: 'not valid JSON' };
    }
    const split = splitHash(raw);
    if (i === 0) {
      header = value as RunHeader;
      if (header.t !== 'run' || typeof header.planHash !== 'string') return { state: 'broken', line: 1, reason: 'not a run header' };
      // Another run's journal is said first: lines its folder's run's rollbacks recorded, or a plan copy
      // it does not match, follow from it. A header edited without its hash is an edit, found below.
      const other = !split || chainHash(header.planHash, split.body) === split.hash ? journalOfAnotherRun(basename(runDir), header) : undefined;
      if (other) return { state: 'broken', line: 1, reason: other };
      if (!split) {
        const chained = await chainedByItsPlan(runDir, header);
        if (chained) return { state: 'broken', line: 1, reason: `it has no hash, though ${chained}: the hash chain was taken out` };
        // What it points at is checked all the same: a plan copy that is not the one recorded is said (a review).
        return (await pointsAtOthers(runDir, header, opts)) ?? { state: 'unverifiable', reason: 'the journal was written before journals carried a hash chain' };
      }
      previous = header.planHash;
      if (header.kind === 'apply') records = await rollbackRecordsOf(runDir, header, opts.headerLines);
    }
    if (!split) return { state: 'broken', line: n, reason: 'it has no hash' };
    if (chainHash(previous!, split.body) !== split.hash) return { state: 'broken', line: n, reason: 'its hash does not match its content and the line before it' };
    previous = split.hash;
    if (records.some((r) => r.lines === n)) hashAt.set(n, split.hash);
  }
  if (!header) return { state: 'broken', line: 1, reason: 'the journal is empty' };
  // A last line without its newline that is whole JSON is checked like any other: a crash can cost a
  // line its newline, never change it, so one whose hash does not verify is an edit passed off as a crash.
  const lastProblem = torn ? tornLineProblem(torn, previous!) : undefined;
  if (lastProblem) return { state: 'broken', line: lines.length + 1, reason: lastProblem };
  // Lines taken off its end, or rewritten with every later hash, leave a chain that verifies: a rollback's record of it does not.
  const short = rolledBackFromProblem(records, lines.length, hashAt);
  if (short) return { state: 'broken', ...short };
  const elsewhere = await pointsAtOthers(runDir, header, opts);
  // The journal's own chain is whole: its final hash stays the evidence it was (an auditor lost it to an edited plan copy).
  if (elsewhere?.state === 'broken') return { ...elsewhere, lines: lines.length, head: previous! };
  if (elsewhere) return elsewhere;
  // A torn last line is what a crash while writing leaves (appending cuts it off): not an edit.
  return { state: 'verified', lines: lines.length, planHash: header.planHash, head: previous!, ...(torn ? { tornLine: lines.length + 1 } : {}) };
}

/** Why a last line without its newline is not a crash's (whole JSON whose hash does not chain), or undefined: torn, or whole and chained. */
function tornLineProblem(torn: string, previous: string): string | undefined {
  try {
    JSON.parse(torn);
  } catch {
    return undefined;
  }
  const split = splitHash(torn);
  if (!split) return 'it has no hash (it has no newline either, but is whole: a crash does not take a hash out)';
  if (chainHash(previous, split.body) !== split.hash) return 'its hash does not match its content and the line before it (it has no newline, but is whole: a crash does not change a line)';
  return undefined;
}

/** A journal whose plan hash is not the run's plan (its copy, or the undone run's), as its check says it; undefined when it is. */
async function pointsAtOthers(runDir: string, header: RunHeader, opts: { planCopy?: boolean }): Promise<JournalCheck | undefined> {
  // An apply's plan copy can be left to a caller that holds it to the header's hash itself (a rollback's check reads no plan).
  const problem = opts.planCopy === false && header.kind === 'apply' ? undefined : await planHashProblem(runDir, header);
  return problem ? { state: 'broken', line: 1, reason: problem.reason, about: problem.about, ...(problem.lost ? { lost: true } : {}) } : undefined;
}

/**
 * What a journal check found that is not a whole journal, in the one wording `runs verify` and
 * `report` both use (`where`: the journal's path, when it is to be named); undefined for a whole one.
 * A torn last line is a crash, not an edit; a plan copy changed, unreadable, or a rollback whose
 * undone run does not match, leaves the journal's own lines out of question.
 */
export function journalProblem(check: JournalCheck, where?: string): string | undefined {
  const journal = where ? `its journal, ${where},` : 'its journal';
  if (check.state === 'verified') return check.tornLine === undefined ? undefined : `line ${check.tornLine}${where ? ` of ${where}` : ''} is incomplete: a crash while writing leaves this, not an edit (the next resume or rollback of the run cuts it off); the lines before it are whole`;
  if (check.state === 'unverifiable') return `unverifiable: ${check.reason}${where ? ` (${where})` : ''}`;
  if (check.about === 'plan-copy-changed' && check.lost) return `${check.reason} (${journal} is whole)`;
  if (check.about === 'plan-copy-changed') return `${check.reason}: it was changed after the run (${journal} is not in question)`;
  // A rollback's own journal, apart from the run it undoes that the reason names.
  if (check.about === 'undone-run') return `${check.reason} (the rollback's own journal${where ? `, ${where},` : ''} is whole)`;
  if (check.about) return `${check.reason} (${journal} is whole)`;
  return `the journal was changed after it was written: line ${check.line}${where ? ` of ${where}` : ''}: ${check.reason}`;
}

/**
 * Why a journal without hashes cannot be one written before the hash chain, if it cannot: its run's
 * plan copy (a rollback's: the undone run's) is of a format that only versions with the chain wrote
 * (2.2 on; 2.1 was written for a while before it). Else undefined: the run may predate the chain.
 */
async function chainedByItsPlan(runDir: string, header: RunHeader): Promise<string | undefined> {
  const [dir, file] = header.kind === 'rollback' ? [join(runDir, '..', header.rollbackOf ?? ''), 'plan.jsonl'] : [runDir, header.planFile ?? 'plan.json'];
  if (file !== 'plan.jsonl') return undefined;
  let version: string;
  try {
    version = (await readPlanHeader(join(dir, file))).format_version;
  } catch (err) {
    // A copy labelled later than this version reads was not written before the chain either.
    if (!(err instanceof NewerPlanError)) return undefined;
    version = err.version;
  }
  const [major, minor] = version.split('.').map(Number);
  if (major !== 2 || minor! < 2) return undefined;
  return `${header.kind === 'rollback' ? `the plan copy of the run it undoes (${header.rollbackOf})` : "the run's plan copy"} is of format ${version}, which only versions that chain their journals wrote`;
}

/** Whether the plan hash the chain starts from is the run's plan: its copy (apply), the undone run's (rollback). */
async function planHashProblem(runDir: string, header: RunHeader): Promise<{ reason: string; about: 'plan-copy-changed' | 'plan-copy-unreadable' | 'undone-run'; lost?: boolean } | undefined> {
  if (header.kind === 'rollback') {
    const about = 'undone-run' as const;
    if (!header.rollbackOf) return { reason: 'a rollback that names no run', about };
    let undone: RunView;
    try {
      undone = await readRun(join(runDir, '..', header.rollbackOf));
    } catch {
      return { reason: `the run it undoes (${header.rollbackOf}) cannot be read`, about };
    }
    // The run it names is an apply, in its own folder: a journal moved there is not what it undid.
    const notIt = journalOfAnotherRun(header.rollbackOf, undone.header) ?? (undone.header.kind === 'apply' ? undefined : `it is a ${undone.header.kind}, not an apply`);
    if (notIt) return { reason: `the run it undoes (${header.rollbackOf}) is not the run it undid: ${notIt}`, about };
    if (undone.header.planHash !== header.planHash) return { reason: `its plan hash is not the one of the run it undoes (${header.rollbackOf})`, about };
    // What the rollback read to undo must still be there as it read it (rollbacks before this record: not checked).
    const changed = header.undoneJournal ? await undoneJournalProblem(join(runDir, '..', header.rollbackOf), header.rollbackOf, header.planHash, header.undoneJournal) : undefined;
    return changed ? { reason: changed, about } : undefined;
  }
  const file = header.planFile ?? 'plan.json';
  let plan: Buffer;
  try {
    plan = await readFile(join(runDir, file));
  } catch {
    return { reason: `the run's plan copy (${file}) cannot be read`, about: 'plan-copy-unreadable' };
  }
  const hash = createHash('sha256').update(plan).digest('hex');
  if (hash === header.planHash) return undefined;
  const loss = planCopyLoss(plan, file);
  if (loss) return { reason: planCopyLostText(file, loss, header.planHash), about: 'plan-copy-changed', lost: true };
  // Both hashes: the recorded one is what an auditor compares with the plan hash signed off in the change ticket.
  return { reason: `the run's plan copy (${file}) is not the plan the journal records (the journal records sha256 ${header.planHash}; the file is sha256 ${hash})`, about: 'plan-copy-changed' };
}

/**
 * Whether the undone run's journal still begins with the lines a rollback recorded when it started:
 * as many, chained from the plan hash, the last with the hash recorded. Lines taken off its end (the
 * chain of what is left verifies), or rewritten and chained anew, are found here; lines added since
 * (a later read-back of writes of unknown outcome) are not in question.
 */
async function undoneJournalProblem(undoneDir: string, undoneId: string, planHash: string, recorded: UndoneJournalRecord): Promise<string | undefined> {
  const lines = (await readFile(join(undoneDir, 'journal.jsonl'), 'utf8')).split('\n');
  lines.pop();
  const journal = `the journal of the run it undoes (${undoneId})`;
  // A line changed, or taken out, in what is left is named first, as runs verify of that run names it.
  let previous = planHash;
  for (let i = 0; i < Math.min(recorded.lines, lines.length); i++) {
    const split = splitHash(lines[i]!);
    if (!split || chainHash(previous, split.body) !== split.hash) return `${journal} was changed after it was written: line ${i + 1}: ${split ? 'its hash does not match its content and the line before it' : 'it has no hash'}`;
    previous = split.hash;
  }
  const mismatch = undoneJournalMismatch({ lines: lines.length, hashAtRecorded: previous }, recorded, { journal, recorder: 'this rollback' });
  return mismatch?.kind === 'rewritten' ? `${journal} is not the one this rollback started from: ${mismatch.reason}` : mismatch?.reason;
}

/**
 * Journals' first lines by run folder, read once for a listing that checks every run (`runs`): each
 * apply's check reads every other run's header for the rollbacks of it, which is else a read of every
 * header for every apply.
 */
export type HeaderLines = Map<string, Promise<string | undefined>>;

/** A run folder's first journal line, from `headerLines` when given (read into it the first time). */
function headerLineOf(dir: string, headerLines: HeaderLines | undefined): Promise<string | undefined> {
  if (!headerLines) return readHeaderLine(dir);
  let line = headerLines.get(dir);
  if (!line) headerLines.set(dir, (line = readHeaderLine(dir)));
  return line;
}

/** A rollback's record of the apply journal it undid, as it found it when it started. */
interface RollbackRecord extends UndoneJournalRecord {
  id: string;
}

/**
 * What each rollback of an apply recorded of its journal, the largest record first (the one that
 * shows the most). Only a record whose header line chains from the run's plan hash is held against
 * it: an edited rollback header is that rollback's check's to find.
 */
async function rollbackRecordsOf(runDir: string, header: RunHeader, headerLines?: HeaderLines): Promise<RollbackRecord[]> {
  const runId = basename(runDir);
  const runsDir = dirname(runDir);
  const records: RollbackRecord[] = [];
  for (const id of await readdir(runsDir).catch(() => [] as string[])) {
    if (id === runId || isUnfinishedRunDir(id)) continue;
    const dir = join(runsDir, id);
    const raw = await headerLineOf(dir, headerLines);
    const split = raw === undefined ? undefined : splitHash(raw);
    if (!split || chainHash(header.planHash, split.body) !== split.hash) continue;
    let rb: Partial<RunHeader>;
    try {
      rb = JSON.parse(raw!) as Partial<RunHeader>;
    } catch {
      continue;
    }
    // A rollback's header in another run's folder is not that folder's record (its own check says so).
    if (rb.t !== 'run' || rb.id !== id || rb.kind !== 'rollback' || rb.rollbackOf !== runId || rb.planHash !== header.planHash || !rb.undoneJournal) continue;
    records.push({ id, ...rb.undoneJournal });
  }
  return records.sort((a, b) => b.lines - a.lines || a.id.localeCompare(b.id));
}

/**
 * Whether an apply's journal still begins with what each rollback of it recorded (as many whole
 * lines, the last with the hash recorded): the check `runs verify` of the rollback makes, made from
 * the apply's side, so that its own check and report find what was taken off or rewritten.
 * `lineCount`: the journal's whole lines, its chain verified; `hashAt`: their hashes at the lines recorded.
 */
function rolledBackFromProblem(records: readonly RollbackRecord[], lineCount: number, hashAt: ReadonlyMap<number, string>): { line: number; reason: string } | undefined {
  for (const r of records) {
    const mismatch = undoneJournalMismatch({ lines: lineCount, hashAtRecorded: hashAt.get(r.lines) }, r, { journal: 'it', recorder: `rollback ${r.id}` });
    // Lines taken off are named at the first one missing; a rewrite at the line recorded, the last that must hold.
    if (mismatch?.kind === 'taken-off') return { line: lineCount + 1, reason: mismatch.reason };
    if (mismatch) return { line: r.lines, reason: `${mismatch.reason} (this line or one before it changed, and every later hash with it)` };
  }
  return undefined;
}

/**
 * Resume and rollback act on what a journal records (what is done; what each write replaced): an
 * edited or damaged journal is refused, naming the first bad line. A journal written before the hash
 * chain cannot be checked.
 */
export async function requireIntactJournal(runDir: string, runId: string): Promise<void> {
  // A torn last line is what a crash while writing leaves (appending cuts it off): not an edit. The plan
  // copy is not read and hashed here: the caller opens it (streamed) and holds it to the header's hash,
  // which the chain now vouches for.
  const check = await verifyJournal(runDir, { planCopy: false });
  if (check.state !== 'broken') return;
  const verify = cliCommand(['runs', 'verify', runId, '--state-dir', dirname(dirname(runDir))]);
  // A rollback whose undone run is not what it recorded: its own journal is whole, what it undoes is not.
  if (check.about) throw new UserError(`run ${runId}: ${journalProblem(check)}: what it records is acted on, so it is refused; ${verify} shows the same`);
  throw new UserError(`the journal of run ${runId} was edited or damaged (line ${check.line}: ${check.reason}): what it records is acted on, so it is refused; ${verify} shows the same`);
}
