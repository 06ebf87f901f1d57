import { createHash } from 'node:crypto';
import { copyFile, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PlanFile, PlanSource } from '../plan/plan-file.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { UserChange } from '../plan/plan-model.js';
import { streamJsonObject } from './plan-stream.js';

/** A user change as apply keeps it: what it writes and the state it expects, not the rule texts. */
export interface ApplyChange {
  resource: string;
  action: UserChange['action'];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  state_fingerprint: string;
}

/** One user of the plan with something to change. */
export interface PlanUser {
  upn: string;
  userId: string;
  changes: ApplyChange[];
}

/**
 * The plan's users with changes, in the plan's order, packed as JSON text in one buffer: 100,000
 * users' changes as objects on the heap would be several times larger (and the garbage collector
 * lets the heap grow in proportion to what is live). A user is parsed when a wave needs it.
 */
export class PlanUserList {
  private constructor(
    private readonly store: PackedUsers,
    /** The selected users' positions in the store; all of them when absent. */
    private readonly picked?: Uint32Array,
  ) {}

  static of(store: PackedUsers): PlanUserList {
    return new PlanUserList(store);
  }

  get length(): number {
    return this.picked ? this.picked.length : this.store.count;
  }

  at(i: number): PlanUser {
    return this.store.get(this.picked ? this.picked[i]! : i);
  }

  slice(from: number, to = this.length): PlanUser[] {
    const out: PlanUser[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.length); i++) out.push(this.at(i));
    return out;
  }

  *[Symbol.iterator](): IterableIterator<PlanUser> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** The users whose UPN passes `keep`, then at most `max` of them. */
  select(keep: ((upn: string) => boolean) | undefined, max = Infinity): PlanUserList {
    if (!keep && max >= this.length) return this;
    const out: number[] = [];
    for (let i = 0; i < this.length && out.length < max; i++) {
      const at = this.picked ? this.picked[i]! : i;
      if (!keep || keep(this.store.upn(at))) out.push(at);
    }
    return new PlanUserList(this.store, Uint32Array.from(out));
  }
}

/** A packed change: [resource, action, before, after, state_fingerprint] (no key names). */
type PackedChange = [string, ApplyChange['action'], ApplyChange['before'], ApplyChange['after'], string];

const pack = (c: ApplyChange): PackedChange => [c.resource, c.action, c.before, c.after, c.state_fingerprint];
const unpack = ([resource, action, before, after, state_fingerprint]: PackedChange): ApplyChange => ({ resource, action, before, after, state_fingerprint });

/**
 * Users appended while a plan is read, as JSON records in 1 MiB slabs that are never moved or
 * freed (growing one buffer by copying would leave the allocator's free lists full of large holes).
 */
export class PackedUsers {
  private static readonly SLAB = 1 << 20;
  private slabs: Buffer[] = [];
  private used = PackedUsers.SLAB;
  /** Slab index * SLAB + offset of each record, and its length. */
  private starts = new Float64Array(1024);
  private lengths = new Uint32Array(1024);
  count = 0;
  /** While loading: where each user is, and changes of a user met again after another one (rare). */
  private index: Map<string, number> | undefined = new Map();
  private extra = new Map<number, string[]>();
  private current: { userId: string; upn: string; changes: string[] } | undefined;

  add(upn: string, userId: string, change: ApplyChange): void {
    const text = JSON.stringify(pack(change));
    if (this.current?.userId === userId) {
      this.current.changes.push(text);
      return;
    }
    this.flush();
    const known = this.index!.get(userId);
    if (known !== undefined) {
      this.extra.set(known, [...(this.extra.get(known) ?? []), text]);
      return;
    }
    this.current = { userId, upn, changes: [text] };
  }

  /** Ends loading. */
  seal(): PackedUsers {
    this.flush();
    this.index = undefined;
    return this;
  }

  get(i: number): PlanUser {
    const [upn, userId, changes] = JSON.parse(this.text(i)) as [string, string, PackedChange[]];
    const out = changes.map(unpack);
    for (const t of this.extra.get(i) ?? []) out.push(unpack(JSON.parse(t) as PackedChange));
    return { upn, userId, changes: out };
  }

  upn(i: number): string {
    return (JSON.parse(this.text(i)) as [string])[0];
  }

  private text(i: number): string {
    const at = this.starts[i]!;
    const slab = this.slabs[Math.floor(at / PackedUsers.SLAB)]!;
    const off = at % PackedUsers.SLAB;
    return slab.toString('utf8', off, off + this.lengths[i]!);
  }

  private flush(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    const record = `[${JSON.stringify(c.upn)},${JSON.stringify(c.userId)},[${c.changes.join(',')}]]`;
    const size = Buffer.byteLength(record);
    if (this.used + size > PackedUsers.SLAB) {
      if (size > PackedUsers.SLAB) throw new Error(`the changes of ${c.upn} are too large (${size} bytes)`);
      this.slabs.push(Buffer.allocUnsafe(PackedUsers.SLAB));
      this.used = 0;
    }
    if (this.count === this.starts.length) {
      const starts = new Float64Array(this.starts.length * 2);
      starts.set(this.starts);
      this.starts = starts;
      const lengths = new Uint32Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.index!.set(c.userId, this.count);
    this.slabs.at(-1)!.write(record, this.used);
    this.starts[this.count] = (this.slabs.length - 1) * PackedUsers.SLAB + this.used;
    this.lengths[this.count++] = size;
    this.used += size;
  }
}

/**
 * What apply needs of a saved plan, held compactly: the users with changes (no no-ops, no
 * findings, no rule texts), the policy changes and where the seeds are. A plan for 100,000 users
 * is read as a stream, so its size on disk never has to fit in memory.
 */
export interface ApplyPlan {
  /** sha256 of the plan file's bytes. */
  hash: string;
  source: PlanSource;
  policyChanges: PlanFile['policy_changes'];
  users: PlanUserList;
  /** Any hardware OATH change: the seeds must be read again from the source. */
  hasTokenChanges: boolean;
  /** Puts the plan's exact bytes into a run's folder (0600, fsynced). */
  copyTo(path: string): Promise<void>;
}

/** Reads a plan saved by `mfa-migrate plan --out`, streaming its user changes. */
export async function loadApplyPlan(path: string): Promise<ApplyPlan> {
  const users = new PackedUsers();
  let hasTokenChanges = false;
  let bad: string | undefined;
  const { rest, sha256 } = await streamJsonObject(path, 'user_changes', new Set(['findings', 'registration_campaign']), (value, i) => {
    const c = value as Partial<UserChange & { state_fingerprint: string }> | null;
    if (!c || typeof c.user !== 'string' || typeof c.user_id !== 'string' || typeof c.resource !== 'string' || typeof c.action !== 'string') {
      bad ??= `user_changes[${i}] is not a user change`;
      return;
    }
    if (c.action === 'no-op') return;
    if (c.resource.startsWith('hardwareOathMethods/')) hasTokenChanges = true;
    users.add(c.user, c.user_id, { resource: c.resource, action: c.action, before: c.before ?? null, after: c.after ?? null, state_fingerprint: c.state_fingerprint ?? '' });
  }).catch((err: Error) => {
    throw new Error(`${path}: not a plan file (${err.message.replace(`${path}: `, '')})`);
  });
  if (rest.kind !== 'mfa-migrate-plan' || typeof rest.format_version !== 'string') throw new Error(`${path}: not a plan file written by mfa-migrate plan --out`);
  if (rest.format_version.split('.')[0] !== '1') throw new Error(`${path}: plan format ${rest.format_version} is not supported (major version 1 expected)`);
  if (bad) throw new Error(`${path}: ${bad}`);
  return {
    hash: sha256,
    source: rest.source as PlanSource,
    policyChanges: (rest.policy_changes ?? []) as PlanFile['policy_changes'],
    users: PlanUserList.of(users.seal()),
    hasTokenChanges,
    copyTo: async (target) => {
      await copyFile(path, target);
      await syncFile(target, 0o600);
    },
  };
}

/** A plan made in this process (`apply --source`): the same view, over the plan in memory. */
export function applyPlanFromMemory(plan: PlanFile, bytes: Buffer): ApplyPlan {
  const users = new PackedUsers();
  for (const c of plan.user_changes) {
    if (c.action === 'no-op') continue;
    users.add(c.user, c.user_id, { resource: c.resource, action: c.action, before: c.before, after: c.after, state_fingerprint: c.state_fingerprint });
  }
  return {
    hash: createHash('sha256').update(bytes).digest('hex'),
    source: plan.source,
    policyChanges: plan.policy_changes,
    users: PlanUserList.of(users.seal()),
    hasTokenChanges: plan.user_changes.some((c) => c.action !== 'no-op' && c.resource.startsWith('hardwareOathMethods/')),
    copyTo: (target) => writeFileAtomic(target, bytes, 0o600),
  };
}

/** The user's changes in the shape the operation builders take. */
export function userChanges(u: PlanUser, changes: ApplyChange[] = u.changes): (UserChange & { state_fingerprint: string })[] {
  return changes.map((c) => ({ ...c, user: u.upn, user_id: u.userId, rule: '' as UserChange['rule'], because: '' }));
}

async function syncFile(path: string, mode: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
