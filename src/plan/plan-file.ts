import { createHash } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import * as z from 'zod';
import { writeFileAtomic } from '../io/atomic-file.js';
import { serialKey } from '../model/serial.js';
import { UserError } from '../model/user-error.js';
import type { PolicyChange } from '../mapping/policy-rules.js';
import type { Finding } from '../mapping/finding.js';
import { stateFingerprint } from './fingerprint.js';
import type { Plan, UserChange } from './plan-model.js';
import type { TenantHardwareToken, TenantSnapshot, TenantUser } from '../model/tenant.js';
import type { AuthenticationMethodsPolicy } from '@microsoft/microsoft-graph-types-beta';

/**
 * The saved plan (`plan --out`, and each run's copy): this module alone reads and writes it.
 *
 * Format 2.x is JSON Lines: a header line (`kind`, `format_version`, tenant, Graph root, options,
 * source, summary), then one line per policy change (`"t":"policy"`), per user with changes
 * (`"t":"user"`) and per finding (`"t":"finding"`), and an end line counting the lines before it, so a
 * cut-off file is refused. Every line is validated on reading. A major version other than 2 is
 * refused, except 1.x (one JSON object), which apply, resume and rollback still read. A minor version
 * adds fields: readers ignore fields they do not know (Terraform's rule).
 */
export const PLAN_FILE_VERSION = '2.0';
export const PLAN_KIND = 'mfa-migrate-plan';

/** Where the export and seed files were read from, so apply can read the seeds again (never their content). */
export interface PlanSource {
  dir: string;
  tokens: string[];
  pskcKeyFile?: string;
  pskcPasswordFile?: string;
  pskcMac: string;
}

export type SavedPolicyChange = PolicyChange & { state_fingerprint: string };
export type SavedUserChange = Omit<UserChange, 'user' | 'user_id'> & { state_fingerprint: string };

/**
 * What the plan decided for an in-scope user as a whole: `changes` (something to write),
 * `unchanged` (the tenant already matches), `not-in-tenant`, `disabled` (in MFA Server).
 */
export type UserStatus = 'changes' | 'unchanged' | 'not-in-tenant' | 'disabled';

/** One user's changes as the saved plan holds them. */
export interface PlanUser {
  upn: string;
  userId: string;
  changes: SavedUserChange[];
}

/** What the plan saw of one user in the tenant, so that the plan can be derived again from its sources. */
export interface SeenUser {
  /** The user as read (null: not in the tenant). */
  seen: TenantUser | null;
  /** The inventory tokens of the serials the export gives the user. */
  tokens: TenantHardwareToken[];
}

/** A user line read whole: changes (no-ops too) and what the plan saw. */
export interface PlanUserLine extends SeenUser {
  upn: string;
  userId: string | null;
  status: UserStatus;
  changes: SavedUserChange[];
  /** Line in the file (for messages). */
  line: number;
}

/** Everything of a saved plan but its users and findings. */
export interface PlanHeader extends Omit<Plan, 'policy_changes' | 'user_changes' | 'findings' | 'users'> {
  kind: typeof PLAN_KIND;
  source: PlanSource;
  /** The authentication methods policy as the plan read it (2.0; absent in 1.x). */
  policy_seen?: AuthenticationMethodsPolicy;
}

const sourceSchema = z.looseObject({
  dir: z.string(),
  tokens: z.array(z.string()),
  pskcKeyFile: z.string().optional(),
  pskcPasswordFile: z.string().optional(),
  pskcMac: z.string(),
});

const headerSchema = z.looseObject({
  kind: z.literal(PLAN_KIND),
  format_version: z.string().regex(/^\d+\.\d+$/),
  created: z.string(),
  source_fingerprint: z.string(),
  tenant: z.looseObject({ id: z.string(), displayName: z.string().optional() }),
  graph: z.string().optional(),
  identity: z.looseObject({ appId: z.string().nullable(), upn: z.string().nullable() }).optional(),
  tool_version: z.string().optional(),
  options: z.looseObject({ include_email: z.boolean(), default_method: z.string(), prune: z.boolean(), target_group: z.looseObject({ id: z.string(), displayName: z.string() }) }),
  summary: z.looseObject({}),
  registration_campaign: z.array(z.string()),
  source: sourceSchema,
});

const jsonObject = z.record(z.string(), z.unknown());

const policyLine = z.looseObject({
  t: z.literal('policy'),
  target: z.string(),
  property: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  rule: z.string(),
  because: z.string(),
  setting: z.string(),
  state_fingerprint: z.string(),
});

const changeSchema = z.looseObject({
  resource: z.string().min(1),
  action: z.enum(['create', 'update', 'delete', 'no-op']),
  before: jsonObject.nullable(),
  after: jsonObject.nullable(),
  rule: z.string(),
  because: z.string(),
  state_fingerprint: z.string(),
});

const userLine = z.looseObject({
  t: z.literal('user'),
  user: z.string().min(1),
  user_id: z.string().min(1).nullable(),
  status: z.enum(['changes', 'unchanged', 'not-in-tenant', 'disabled']).optional(),
  changes: z.array(changeSchema),
  seen: jsonObject.nullable().optional(),
  tokens_seen: z.array(jsonObject).optional(),
});

const findingLine = z.looseObject({ t: z.literal('finding'), severity: z.enum(['error', 'warning', 'info']), code: z.string(), user: z.string().optional(), rule: z.string(), message: z.string() });

const endLine = z.looseObject({ t: z.literal('end'), lines: z.number().int().min(1) });

/** A plan as the saved file holds it: every in-scope user once, with their changes. */
export interface PlanFileContent {
  header: PlanHeader;
  policy: SavedPolicyChange[];
  users: ({ upn: string; userId: string | null; status: UserStatus; changes: SavedUserChange[] } & Partial<SeenUser>)[];
  findings: Finding[];
}

/**
 * A saved plan for a plan made in this process. With the tenant it was made against, each user line
 * records what the plan saw of the user (and the header the policy), so that apply can plan again
 * from the recorded sources and refuse a file whose changes are not what they give.
 */
export function toPlanFile(plan: Plan, source: PlanSource, tenant?: TenantSnapshot, serialsOf?: (upn: string) => readonly string[]): PlanFileContent {
  const { policy_changes, user_changes, findings, users: roster, ...rest } = plan;
  const changesOf = new Map<string, SavedUserChange[]>();
  for (const { user: _u, user_id, ...c } of user_changes) {
    let list = changesOf.get(user_id);
    if (!list) changesOf.set(user_id, (list = []));
    list.push({ ...c, state_fingerprint: stateFingerprint(c.before) });
  }
  return {
    header: { kind: PLAN_KIND, ...rest, format_version: PLAN_FILE_VERSION, source, ...(tenant ? { policy_seen: tenant.policy } : {}) },
    policy: policy_changes.map((c) => ({ ...c, state_fingerprint: stateFingerprint(c.before) })),
    users: roster.map((u) => ({
      upn: u.user,
      userId: u.user_id,
      status: u.status,
      changes: u.user_id === null ? [] : (changesOf.get(u.user_id) ?? []),
      ...(tenant ? { seen: tenant.users.get(u.user.toLowerCase()) ?? null, tokens: (serialsOf?.(u.user) ?? []).flatMap((s) => tenant.hardwareTokens.get(serialKey(s)) ?? []) } : {}),
    })),
    findings,
  };
}

/** The bytes of a saved plan (2.0, JSON Lines). */
export function encodePlanFile(file: PlanFileContent): Buffer {
  const lines: string[] = [JSON.stringify(file.header)];
  for (const c of file.policy) lines.push(JSON.stringify({ t: 'policy', ...c }));
  for (const u of file.users) lines.push(JSON.stringify({ t: 'user', user: u.upn, user_id: u.userId, status: u.status, changes: u.changes, ...(u.seen !== undefined ? { seen: u.seen, tokens_seen: u.tokens ?? [] } : {}) }));
  for (const f of file.findings) lines.push(JSON.stringify({ t: 'finding', ...f }));
  lines.push(JSON.stringify({ t: 'end', lines: lines.length }));
  return Buffer.from(`${lines.join('\n')}\n`);
}

/**
 * Writes the plan crash-safely (temporary file, fsync, rename). Mode 0600: a plan holds no secret,
 * but it holds users' phone numbers in full (apply needs them).
 */
export async function writePlanFile(path: string, bytes: Buffer): Promise<void> {
  await writeFileAtomic(path, bytes, 0o600);
}

/** An in-scope user of the plan: where their line is, and what apply needs to choose users without reading it. */
export interface UserEntry {
  upn: string;
  /** Null for a user the tenant does not have. */
  userId: string | null;
  status: UserStatus;
  /** Changes other than no-ops. */
  pending: number;
  offset: number;
  length: number;
  /** Line in the file (0 for 1.x plans). */
  line: number;
}

/**
 * A saved plan opened for apply, resume and rollback: the header, the policy changes and findings
 * in memory, and an index of the users' lines, each read from the file when a wave needs it (a plan
 * for 100,000 users need not be held in memory).
 */
export class SavedPlan {
  private constructor(
    readonly path: string,
    /** sha256 of the file's bytes. */
    readonly hash: string,
    readonly header: PlanHeader,
    readonly policyChanges: SavedPolicyChange[],
    readonly findings: Finding[],
    private readonly entries: UserEntry[],
    /** Whether any change is a hardware token's (apply then needs the seeds). */
    readonly hasTokenChanges: boolean,
    /** 1.x plans: the users themselves, by position (there is no line to read). */
    private readonly inMemory?: Map<number, PlanUser>,
  ) {}

  /** The major format version of the file. */
  get format(): '1' | '2' {
    return this.inMemory ? '1' : '2';
  }

  /** Every in-scope user the plan lists, in the plan's order (1.x plans list only users with changes). */
  get users(): readonly Readonly<UserEntry>[] {
    return this.entries;
  }

  /** Every user line whole (no-ops and what the plan saw included), in order, a chunk at a time. */
  async *lines(chunk = 1000): AsyncGenerator<PlanUserLine[]> {
    if (this.inMemory) throw new UserError(`${this.path}: a plan of format ${this.header.format_version} holds no user lines`);
    const fh = await open(this.path, 'r');
    try {
      for (let i = 0; i < this.entries.length; i += chunk) {
        const out: PlanUserLine[] = [];
        for (const e of this.entries.slice(i, i + chunk)) {
          const buf = Buffer.allocUnsafe(e.length);
          await fh.read(buf, 0, e.length, e.offset);
          const u = JSON.parse(buf.toString('utf8')) as { user: string; user_id: string | null; changes: SavedUserChange[]; seen?: TenantUser | null; tokens_seen?: TenantHardwareToken[] };
          out.push({ upn: u.user, userId: u.user_id, status: e.status, changes: u.changes, seen: u.seen === undefined ? null : u.seen, tokens: u.tokens_seen ?? [], line: e.line });
        }
        yield out;
      }
    } finally {
      await fh.close();
    }
  }

  /** Whether the file records what the plan saw of the tenant (2.0 files do; 1.x did not). */
  get recordsTenant(): boolean {
    return this.header.policy_seen !== undefined;
  }

  /** The users at these positions of `users`, read from the file, with their changes other than no-ops. */
  async read(positions: readonly number[]): Promise<PlanUser[]> {
    if (this.inMemory) return positions.map((i) => this.inMemory!.get(i)!);
    const fh = await open(this.path, 'r');
    try {
      const out: PlanUser[] = [];
      for (const i of positions) out.push(await readUserLine(fh, this.entries[i]!, this.path));
      return out;
    } finally {
      await fh.close();
    }
  }

  /** Opens a saved plan; refuses what is not one, an unknown major version, a cut-off or invalid file, naming the line. */
  static async open(path: string): Promise<SavedPlan> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? `cannot read the plan file ${path}: no such file` : `cannot read the plan file ${path} (${code ?? (err as Error).message})`);
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    const firstEnd = bytes.indexOf(0x0a);
    const first = bytes.toString('utf8', 0, firstEnd < 0 ? bytes.length : firstEnd);
    let head: unknown;
    try {
      head = JSON.parse(first);
    } catch {
      return SavedPlan.openV1(path, hash, bytes);
    }
    return SavedPlan.openV2(path, hash, bytes, head);
  }

  private static openV2(path: string, hash: string, bytes: Buffer, head: unknown): SavedPlan {
    const header = parseHeader(path, head, 1);
    const policy: SavedPolicyChange[] = [];
    const findings: Finding[] = [];
    const entries: UserEntry[] = [];
    let tokenChanges = false;
    let ended = false;
    let lineNo = 1;
    let start = bytes.indexOf(0x0a) + 1;
    const userIds = new Set<string>();
    while (start > 0 && start < bytes.length) {
      const end = bytes.indexOf(0x0a, start);
      const stop = end < 0 ? bytes.length : end;
      lineNo++;
      if (ended) throw invalid(path, lineNo, 'text after the end line');
      let value: unknown;
      try {
        value = JSON.parse(bytes.toString('utf8', start, stop));
      } catch (err) {
        throw invalid(path, lineNo, `not JSON (${(err as Error).message})`);
      }
      const t = (value as { t?: unknown } | null)?.t;
      if (t === 'user') {
        const u = check(userLine, value, path, lineNo);
        const key = u.user.toLowerCase();
        if (userIds.has(key) || (u.user_id !== null && userIds.has(u.user_id))) throw invalid(path, lineNo, `user ${u.user} appears twice`);
        userIds.add(key);
        if (u.user_id !== null) userIds.add(u.user_id);
        const pending = u.changes.filter((c) => c.action !== 'no-op');
        if (pending.length > 0 && u.user_id === null) throw invalid(path, lineNo, `user ${u.user} has changes but no user_id`);
        if (pending.some((c) => c.resource.startsWith('hardwareOathMethods/'))) tokenChanges = true;
        const status: UserStatus = u.status ?? (pending.length > 0 ? 'changes' : 'unchanged');
        entries.push({ upn: u.user, userId: u.user_id, status, pending: pending.length, offset: start, length: stop - start, line: lineNo });
      } else if (t === 'policy') {
        const { t: _t, ...c } = check(policyLine, value, path, lineNo);
        policy.push(c as SavedPolicyChange);
      } else if (t === 'finding') {
        const { t: _t, ...f } = check(findingLine, value, path, lineNo);
        findings.push(f as Finding);
      } else if (t === 'end') {
        const e = check(endLine, value, path, lineNo);
        if (e.lines !== lineNo - 1) throw invalid(path, lineNo, `the end line counts ${e.lines} lines, the file has ${lineNo - 1}`);
        ended = true;
      } else {
        throw invalid(path, lineNo, `unknown line type ${JSON.stringify(t)}`);
      }
      start = stop + 1;
    }
    if (!ended) throw new UserError(`${path}: the plan file is cut off (no end line): save the plan again`);
    return new SavedPlan(path, hash, header, policy, findings, entries, tokenChanges);
  }

  /** Format 1.x: one JSON object with `user_changes` (plans saved before 2.0, and the copies in their runs). */
  private static openV1(path: string, hash: string, bytes: Buffer): SavedPlan {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`${path}: not a plan file (${(err as Error).message})`);
    }
    const header = parseHeader(path, data, undefined);
    const users: PlanUser[] = [];
    const byId = new Map<string, PlanUser>();
    const changes = data.user_changes;
    if (!Array.isArray(changes)) throw new UserError(`${path}: not a plan file (no user_changes)`);
    let tokenChanges = false;
    changes.forEach((raw, i) => {
      const r = changeSchema.extend({ user: z.string().min(1), user_id: z.string().min(1) }).safeParse(raw);
      if (!r.success) throw new UserError(`${path}: user_changes[${i}] is not a user change (${r.error.issues[0]?.path.join('.') || 'value'}: ${r.error.issues[0]?.message})`);
      const { user, user_id, ...c } = r.data;
      if (c.action === 'no-op') return;
      if (c.resource.startsWith('hardwareOathMethods/')) tokenChanges = true;
      let u = byId.get(user_id);
      if (!u) {
        u = { upn: user, userId: user_id, changes: [] };
        byId.set(user_id, u);
        users.push(u);
      }
      u.changes.push(c as SavedUserChange);
    });
    const policy = Array.isArray(data.policy_changes) ? (data.policy_changes as SavedPolicyChange[]) : [];
    const findings = Array.isArray(data.findings) ? (data.findings as Finding[]) : [];
    const entries: UserEntry[] = users.map((u) => ({ upn: u.upn, userId: u.userId, status: 'changes', pending: u.changes.length, offset: 0, length: 0, line: 0 }));
    return new SavedPlan(path, hash, header, policy, findings, entries, tokenChanges, new Map(users.map((u, i) => [i, u])));
  }
}

function parseHeader(path: string, value: unknown, line: number | undefined): PlanHeader {
  const kind = (value as { kind?: unknown } | null)?.kind;
  const version = (value as { format_version?: unknown } | null)?.format_version;
  if (kind !== PLAN_KIND || typeof version !== 'string') throw new UserError(`${path}: not a plan file written by mfa-migrate plan --out`);
  const major = version.split('.')[0];
  if (major !== '2' && major !== '1') throw new UserError(`${path}: plan format ${version} is not supported (this mfa-migrate reads 1.x and 2.x): use the mfa-migrate that wrote it, or plan again`);
  if ((major === '1') !== (line === undefined)) throw new UserError(`${path}: plan format ${version} does not match the file's layout`);
  const r = headerSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UserError(`${path}${line ? `, line ${line}` : ''}: invalid plan header: ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  return r.data as unknown as PlanHeader;
}

function check<T>(schema: z.ZodType<T>, value: unknown, path: string, line: number): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw invalid(path, line, `${issue.path.join('.') || 'value'}: ${issue.message}`);
}

function invalid(path: string, line: number, why: string): UserError {
  return new UserError(`${path}, line ${line}: not a valid plan line: ${why}`);
}

async function readUserLine(fh: FileHandle, e: UserEntry, path: string): Promise<PlanUser> {
  const buf = Buffer.allocUnsafe(e.length);
  const { bytesRead } = await fh.read(buf, 0, e.length, e.offset);
  if (bytesRead !== e.length) throw new UserError(`${path}: the plan file changed while it was being applied`);
  const u = JSON.parse(buf.toString('utf8')) as { user: string; user_id: string | null; changes: SavedUserChange[] };
  if (u.user_id !== e.userId || u.user_id === null) throw new UserError(`${path}: the plan file changed while it was being applied`);
  return { upn: u.user, userId: u.user_id, changes: u.changes.filter((c) => c.action !== 'no-op') };
}
