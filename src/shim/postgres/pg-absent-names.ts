import { createHmac } from 'node:crypto';
import { MAX_ABSENT_NAMES, RecentMap, type AbsentNameStore, type AbsentView } from '../absent-names.js';
import type { UserState } from '../store-model.js';
import type { StateAnswer, StateRequest } from './state-batch.js';

/**
 * Made-up names' failures and lock-outs in PostgreSQL (table mfa_shim_absent_names, schema 3), shared
 * by every node as real users' state is: a name gets as many tries over two nodes as over one, and
 * a restart forgets nothing. Each read and write goes in the node's batch statement (state-batch.ts),
 * beside real users' changes: one round trip, as a wrong code's. A node keeps the names it saw last
 * (a cache, as of real users' state: PgState), so a name tried again costs one round trip, not two.
 *
 * The name is kept as an HMAC-SHA256 under a key derived from the store key (every node has it), not
 * in clear: what is typed as a user name over RADIUS can be anything (a password, another system's
 * account), and the database (its backups, its admins) need not learn it; the audit log keeps the
 * name for the help desk. Without the store key the hashes cannot be tried against a list of names.
 */
export class PgAbsentNames implements AbsentNameStore {
  readonly #cache = new RecentMap<AbsentView & { hash: string }>(MAX_ABSENT_NAMES);

  constructor(
    private readonly nameKey: Buffer,
    private readonly submit: (request: StateRequest) => Promise<StateAnswer>,
  ) {}

  #hash(key: string): string {
    return this.#cache.get(key)?.hash ?? createHmac('sha256', this.nameKey).update(key).digest('hex');
  }

  async read(key: string, fresh: boolean): Promise<AbsentView> {
    const cached = fresh ? undefined : this.#cache.get(key);
    if (cached) {
      this.#cache.set(key, cached);
      return { state: cached.state, version: cached.version, expiresAt: cached.expiresAt, cached: true };
    }
    const hash = this.#hash(key);
    const view = (await this.submit({ kind: 'absent-read', name: hash })) as AbsentView;
    this.#cache.set(key, { ...view, hash });
    return view;
  }

  async write(key: string, expected: AbsentView, next: UserState, nowMs: number, expiresAt: number): Promise<number | null> {
    const hash = this.#hash(key);
    const version = (await this.submit({ kind: 'absent-write', name: hash, version: expected.version, next, nowMs, expiresAt })) as number | null;
    // One name's attempts run one at a time on a node (verifier.ts): nothing else changed the entry meanwhile.
    if (version !== null) this.#cache.set(key, { state: next, version, expiresAt, hash });
    else this.#cache.delete(key);
    return version;
  }

  /** The database may come back restored from a backup: what was seen is forgotten. */
  clear(): void {
    this.#cache.clear();
  }
}
