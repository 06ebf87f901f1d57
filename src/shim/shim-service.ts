import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { Server } from 'node:http';
import { AuditLog, auditPathOf } from './audit-log.js';
import { createShimServer } from './http-server.js';
import { HttpDrain } from './http-drain.js';
import { ShimMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { failureWindowMs, type ShimRules } from './rules.js';
import { ShimDatabase } from './shim-database.js';
import { userKey } from './store-model.js';
import { UnlockRequestDir } from './unlock-requests.js';
import { unlockReaches } from './lockout.js';
import { Verifier } from './verifier.js';
import { SourceBudget } from './source-budget.js';
import { VerifyGate } from './verify-gate.js';
import { UserError } from '../model/user-error.js';
import { PgState, type OutageEvent } from './postgres/pg-state.js';
import { migrationEvent, outageEvent } from './state-audit.js';
import { storeStateOf } from './shim-operations.js';
import type { RadiusClient } from './radius/clients-file.js';
import { RadiusServer } from './radius/radius-server.js';
import { NO_REPLY_ATTRIBUTES, type ReplyAttributes } from './radius/reply-attributes.js';
import { realmCheck } from './radius/user-realm.js';
import { printable } from '../model/printable.js';
import { unlockReason } from './unlock-reason.js';
import { deriveKey } from './store-key.js';
import { monotonicMs } from './monotonic-clock.js';

export interface ShimServiceOptions {
  store: string;
  key: Buffer;
  host: string;
  port: number;
  rules: ShimRules;
  rateLimit: { perSecond: number; burst: number };
  /** Failures one end-user address may have across all users within the lock-out window (0: no budget). */
  sourceMaxFails?: number;
  apiKey?: string;
  tls?: { cert: Buffer; key: Buffer };
  /** Allow a non-loopback bind without an API key and TLS. */
  insecure?: boolean;
  auditLog?: string;
  maxBodyBytes?: number;
  compactAfter?: number;
  /** Continue from the store's own state when its journal (or database state) is missing or foreign. */
  resetState?: boolean;
  /** Shared verification state in PostgreSQL (--state); default: the store's local journal. */
  state?: URL;
  /** RADIUS front end (--radius-port, --radius-clients, --radius-attributes); off when absent. */
  radius?: { port: number; clients: RadiusClient[]; replyAttributes?: ReplyAttributes };
  now?: () => number;
  /** The clock of intervals kept in memory (rate limits, source budgets, RADIUS retransmissions); default monotonic (monotonic-clock.ts). */
  elapsed?: () => number;
  onNotice?: (message: string) => void;
}

export interface ShimService {
  url: string;
  address: AddressInfo;
  /** The RADIUS socket's address, when RADIUS is on. */
  radiusAddress?: AddressInfo;
  db: ShimDatabase;
  server: Server;
  auditPath: string;
  /** RADIUS on: new clients and reply attributes, from the next request on (serve's SIGHUP); audited. A UserError (clients whose realm options conflict with the store) changes nothing. */
  reloadRadius?(clients: RadiusClient[], replyAttributes: ReplyAttributes): void;
  /** RADIUS on: a SIGHUP whose files did not read (the ones in use stay), audited. */
  reloadRefused?(reason: string): void;
  /** serve's SIGHUP: the audit log opened again at auditPath (log rotation), audited; returns what to tell the operator. */
  reopenAuditLog(): string;
  close(): Promise<void>;
}

/** A configuration the service refuses to run with. */
export class ShimConfigError extends UserError {
  override name = 'ShimConfigError';
}

/** Failures one end-user address may have across all users within the window (issue 17 item 8). */
export const DEFAULT_SOURCE_MAX_FAILS = 30;

/** A source's failures count within failureWindowMs (the lock-out's length, or 15 minutes); answers slow down by 1 s from half the budget. */
export function sourceBudgetRules(maxFails: number, rules: ShimRules): ConstructorParameters<typeof SourceBudget>[0] {
  return { maxFails, windowMs: failureWindowMs(rules), slowDownMs: 1000 };
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

/** Opens the store, folds its journal, applies pending unlocks and starts listening. */
export async function startShimService(opts: ShimServiceOptions): Promise<ShimService> {
  if (!isLoopbackHost(opts.host) && !opts.insecure) {
    const missing = [opts.apiKey === undefined ? 'an API key (--api-key-file)' : '', opts.tls === undefined ? 'TLS (--tls-cert and --tls-key)' : ''].filter(Boolean);
    if (missing.length > 0) {
      throw new ShimConfigError(`binding to ${opts.host} (not loopback) requires ${missing.join(' and ')}; pass --insecure to run without (not recommended)`);
    }
  }
  const now = opts.now ?? Date.now;
  const notice = opts.onNotice ?? (() => undefined);
  const dbOptions: Parameters<typeof ShimDatabase.open>[2] = { command: 'shim serve', onNotice: notice, resetState: opts.resetState === true, seedsOnly: opts.state !== undefined, ...(opts.state ? { stateUrl: opts.state } : {}) };
  if (opts.compactAfter !== undefined) dbOptions.compactAfter = opts.compactAfter;
  // Opened before the store is (its journal extended, a new generation compacted, the database's
  // state attached): a log that cannot be opened stops the start before it changes anything (a
  // black-box test saw a new store generation written, then the start refused for its audit log).
  const auditPath = opts.auditLog ?? auditPathOf(opts.store);
  const audit = await AuditLog.open(auditPath, notice, now);
  let db: ShimDatabase;
  try {
    db = await ShimDatabase.open(opts.store, opts.key, dbOptions);
  } catch (err) {
    await audit.close();
    throw err;
  }
  let auditOutage: ((e: OutageEvent) => void) | undefined;
  let pg: PgState | undefined;
  let radius: RadiusServer | undefined;
  let http: ReturnType<typeof createShimServer> | undefined;
  try {
    if (opts.state) {
      // An outage's beginning and end go to the audit log too (auditOutage, set below).
      // Made-up names' failures are kept in the database too, by a keyed hash of the name (pg-absent-names.ts).
      pg = await PgState.open(opts.state, db.storeId, { onNotice: notice, onOutage: (e) => auditOutage?.(e), nameKey: deriveKey(opts.key, 'absent-name') });
      await pg.attach(storeStateOf(db), opts.resetState === true);
    } else {
      await db.compact();
    }
    const auditLog = audit;
    if (pg?.migrated) auditLog.write(migrationEvent(pg.migrated));
    auditOutage = (e) => auditLog.write(outageEvent(e));
    // An unlock request applied, at a user's attempt or by the sweep: one line either way.
    const auditUnlock = (username: string, wasLocked: boolean, cleared = true) => auditLog.write({ event: 'unlock', user: username, client: 'shim unlock', result: 'accept', reason: unlockReason(wasLocked, cleared) });
    const unlocks = new UnlockRequestDir(
      opts.store,
      opts.key,
      db.storeId,
      (user, wasLocked) => auditUnlock(user.username, wasLocked),
      (file) => {
        notice(`${file}: unlock request dropped: it was not made with this store's key (forged, or for another store)`);
        auditLog.write({ event: 'unlock', client: 'shim unlock', result: 'reject', reason: 'forged_request', detail: file });
      },
    );
    // With shared state, `shim unlock` writes to the database; unlock requests are the local state's.
    const verifier = new Verifier(db, pg ?? db, opts.rules, now, pg ? undefined : unlocks);

    const applyUnlockRequests = async (): Promise<void> => {
      for (const request of await unlocks.drain()) {
        const user = db.findUser(userKey(request.user));
        if (!user) continue;
        if (!unlockReaches(user, request.requestedAt)) continue; // asked before failures counted since (a lock-out of the user, or of a source, among them)
        const done = await verifier.unlock(user.username);
        // An admin's request is audited whatever it found; one for a user with nothing to clear says so (a black-box test saw none, while the same unlock with no server running wrote one).
        if (done) auditUnlock(user.username, done.wasLocked, done.cleared);
      }
    };
    if (!pg) await applyUnlockRequests();

    const metrics = new ShimMetrics();
    // Intervals in memory go by the monotonic clock; `now` (wall time) is for what is persisted or shown.
    const elapsed = opts.elapsed ?? monotonicMs;
    const limiter = new RateLimiter(opts.rateLimit.perSecond, opts.rateLimit.burst, elapsed);
    const stateUp = (): boolean => (pg ? pg.healthy : db.failure === null);
    // No verification while the audit log cannot be written: an accept must not go unaudited.
    const canVerify = (): boolean => stateUp() && auditLog.up;
    const shared = pg;
    const gate = new VerifyGate(
      verifier,
      metrics,
      audit,
      canVerify,
      // An outage of the shared state on trial lets verifications try (state-health.ts).
      shared ? { accepting: () => shared.accepting && auditLog.up, inOutage: () => shared.inOutage || !auditLog.up, onUnavailable: () => shared.countRefused() } : {},
    );
    const budgetRules = sourceBudgetRules(opts.sourceMaxFails ?? DEFAULT_SOURCE_MAX_FAILS, opts.rules);
    const budget = new SourceBudget(budgetRules, elapsed);
    if (opts.radius) {
      // A client whose realm options would give one user's name another's stops the start (user-realm.ts).
      for (const warning of realmCheck(opts.radius.clients, db.users.values())) notice(warning);
      for (const warning of opts.radius.replyAttributes?.unmatched([...db.users.values()].map((u) => ({ key: u.key, group: u.group }))) ?? []) notice(warning);
      radius = new RadiusServer({
        gate,
        metrics,
        clients: opts.radius.clients,
        defaults: { rateLimit: opts.rateLimit, sourceBudget: budgetRules },
        replyAttributes: opts.radius.replyAttributes ?? NO_REPLY_ATTRIBUTES,
        now: elapsed,
        onNotice: notice,
      });
    }
    const radiusServer = radius;
    const healthy = (): boolean => canVerify() && (radiusServer === undefined || radiusServer.up);
    const drain = new HttpDrain();
    const server = createShimServer({
      drain,
      gate,
      budget,
      metrics,
      audit,
      limiter,
      ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
      healthy,
      unhealthyReason: () => (!stateUp() ? 'state_unavailable' : !auditLog.up ? 'audit_unavailable' : 'radius_down'),
      gauges: async () => {
        const tokens: Record<string, number> = { totp: 0, hotp: 0 };
        for (const t of db.tokens.values()) tokens[t.type] = (tokens[t.type] ?? 0) + 1;
        // Locked out now: a lock-out that ran out counts no more (it is cleared at the user's next attempt).
        const lockedAfter = opts.rules.lockoutMinutes > 0 ? now() - opts.rules.lockoutMinutes * 60_000 : null;
        let lockedUsers: number | null = 0;
        // With PostgreSQL the lock-outs are the database's (other nodes' included), not this process's.
        if (pg) lockedUsers = await pg.lockedUsers(lockedAfter);
        else for (const u of db.users.values()) if (u.lockedAt !== null && (lockedAfter === null || u.lockedAt > lockedAfter)) lockedUsers++;
        return { users: db.users.size, tokens, lockedUsers, ...(radiusServer ? { radiusUp: radiusServer.up } : {}) };
      },
    });

    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(err, `${opts.tls ? 'HTTPS' : 'HTTP'} on tcp ${opts.host} port ${opts.port}`, '--port')));
      server.listen(opts.port, opts.host, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    http = server;
    const address = server.address() as AddressInfo;
    const radiusAddress = radiusServer ? await radiusServer.listen(opts.radius!.port, opts.host).catch((err: unknown) => Promise.reject(listenError(err, `RADIUS on udp ${opts.host} port ${opts.radius!.port}`, '--radius-port'))) : undefined;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${opts.tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
    if (db.stateReset) audit.write({ event: 'start', detail: 'state reset (--reset-state): the journal was missing or foreign; continued from the store' });
    audit.write({
      event: 'start',
      detail: `listening on ${url}${radiusAddress ? ` and RADIUS udp/${radiusAddress.port}` : ''}; ${db.users.size} users, ${db.tokens.size} tokens; state ${pg ? 'in PostgreSQL' : 'in the local journal'}`,
    });
    // A database that holds the store's state but takes no writes (read-only, a standby, a privilege
    // missing) is said at once: the node listens, answers 503 and comes back by itself, where one it
    // cannot reach at all stops the start (nothing of the store could be checked).
    await pg?.probeNow();

    const timers = [
      setInterval(() => {
        limiter.prune();
        budget.prune();
      }, 60_000),
      ...(pg ? [] : [setInterval(() => void applyUnlockRequests().catch((err: Error) => notice(`unlock requests: ${err.message}`)), 5_000)]),
    ];
    for (const t of timers) t.unref();

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        await radiusServer?.close();
        // Keep-alive clients cannot hold the stop open; the requests answered meanwhile are audited before 'stop'.
        await drain.stop(server);
        auditLog.write({ event: 'stop' });
        try {
          await pg?.close();
          await db.close({ compact: true });
        } finally {
          await auditLog.close();
        }
      })();
      return closing;
    };
    // Who may ask, and with which secret, changes with a reload: a security change, so it is audited
    // (the clients by name and network, never a secret), and so is a reload refused.
    const reloadRadius = (clients: RadiusClient[], replyAttributes: ReplyAttributes): void => {
      // Throws (the reload refused, the files in use kept) before anything changes.
      for (const warning of realmCheck(clients, db.users.values())) notice(warning);
      for (const warning of replyAttributes.unmatched([...db.users.values()].map((u) => ({ key: u.key, group: u.group })))) notice(warning);
      radiusServer!.reload(clients, replyAttributes);
      const named = [...clients].sort((a, b) => a.line - b.line).map((c) => (c.name === c.network ? c.network : `${c.name} ${c.network}`));
      auditLog.write({ event: 'reload', client: 'SIGHUP', result: 'accept', detail: printable(`${clients.length} RADIUS client(s): ${named.join(', ')}`) });
    };
    const reloadRefused = (reason: string): void => auditLog.write({ event: 'reload', client: 'SIGHUP', result: 'reject', detail: printable(reason) });
    // logrotate moves the file away and sends SIGHUP: without a reopen the shim would write on into
    // the moved file. The reopen is audited as a reload is: in the new file, or, refused, in the old.
    const reopenAuditLog = (): string => {
      try {
        auditLog.reopen({ event: 'reload', client: 'SIGHUP', result: 'accept', detail: printable(`audit log reopened at ${auditPath}`) });
        return `SIGHUP: audit log reopened at ${printable(auditPath)}`;
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        auditLog.write({ event: 'reload', client: 'SIGHUP', result: 'reject', detail: printable(`audit log not reopened: ${err.message}`) });
        return `SIGHUP: audit log not reopened, still writing to the file open before: ${printable(err.message)}`;
      }
    };
    return { url, address, ...(radiusAddress ? { radiusAddress, reloadRadius, reloadRefused } : {}), reopenAuditLog, db, server, auditPath, close };
  } catch (err) {
    // Nothing of it keeps running: a server left listening after its store's lock is released would
    // answer beside the next process that takes the store.
    await radius?.close().catch(() => undefined);
    const listening = http;
    if (listening) await new Promise<void>((resolve) => {
      listening.close(() => resolve());
      listening.closeAllConnections();
    });
    await pg?.close().catch(() => undefined);
    await audit.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}

/** A socket that could not listen, said as the admin can act on it: which service, host and port, and why. */
function listenError(err: unknown, what: string, flag: string): Error {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return new UserError(`cannot listen for ${what}: the port is in use (another process; choose another with ${flag})`, undefined, { cause: err });
  if (code === 'EACCES') return new UserError(`cannot listen for ${what}: permission denied (a port below 1024 needs privileges; choose another with ${flag})`, undefined, { cause: err });
  if (code === 'EADDRNOTAVAIL') return new UserError(`cannot listen for ${what}: the address is not one of this machine's (--host)`, undefined, { cause: err });
  return new UserError(`cannot listen for ${what}: ${code ?? (err as Error).message}`, undefined, { cause: err });
}
