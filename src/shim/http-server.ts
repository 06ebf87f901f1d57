import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AuditLog } from './audit-log.js';
import { HttpDrain } from './http-drain.js';
import { canonicalIp, endUserSource } from './ip-address.js';
import type { ShimGauges, ShimMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';
import type { SourceBudget } from './source-budget.js';
import type { VerifyGate } from './verify-gate.js';
import type { VerifyReason, VerifyResult } from './verifier.js';
import { printable } from '../model/printable.js';

export interface ShimHttpOptions {
  gate: VerifyGate;
  /** The failure budget of end-user addresses (issue 17 item 8). */
  budget: SourceBudget;
  metrics: ShimMetrics;
  audit: AuditLog;
  limiter: RateLimiter;
  /** Required as `Authorization: Bearer <key>` on /v1/verify and /metrics when set. */
  apiKey?: string;
  tls?: { cert: Buffer; key: Buffer };
  /** Largest request body accepted (bytes). */
  maxBodyBytes?: number;
  /** Whether state can still be persisted (false after a journal failure: fail closed). */
  healthy: () => boolean;
  /** Why it is not healthy (default state_unavailable), for /healthz. */
  unhealthyReason?: () => string;
  gauges: () => ShimGauges | Promise<ShimGauges>;
  /** The requests in flight and the server's stop (the service's close() calls its stop()). */
  drain?: HttpDrain;
}

export const DEFAULT_MAX_BODY_BYTES = 4096;
/** Longest user name and code accepted in a request (anything longer is `malformed`). */
export const MAX_USER_LENGTH = 256;
export const MAX_CODE_LENGTH = 16;

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

/** The verdict bodies are few: build each once. */
const verdictBodies = new Map<string, Buffer>();
function verdictBody(result: VerifyResult, reason: VerifyReason): Buffer {
  const k = `${result}|${reason}`;
  let body = verdictBodies.get(k);
  if (!body) {
    body = Buffer.from(JSON.stringify({ result, reason }));
    verdictBodies.set(k, body);
  }
  return body;
}

function send(res: ServerResponse, status: number, body: Buffer | string, extra?: Record<string, string>): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': String(buf.length), ...extra });
  res.end(buf);
}

/** The client address as audit and rate limit see it: the same text as a client_ip of the same address (canonicalIp). */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress;
  return a === undefined ? 'unknown' : (canonicalIp(a) ?? a);
}

/**
 * The source a request's failures count under: the client_ip an authenticated caller passes (an
 * application or proxy in front of many users), else the caller's own address, counted as client_ip
 * would be (an IPv6 one by its /64: a review saw one host get a budget per address).
 */
export function sourceOf(authenticated: boolean, clientIp: string | undefined, client: string): string {
  return authenticated && clientIp !== undefined ? clientIp : callerSource(client);
}

/** The caller's own address as a source and a rate-limit key: as client_ip counts (an IPv6 one by its /64). */
function callerSource(client: string): string {
  return endUserSource(client) ?? client;
}

/**
 * Whether a Content-Type is JSON (`application/json`, parameters such as charset allowed). Required
 * on POST /v1/verify: a browser sends `text/plain` (or a form) cross-origin without a CORS
 * preflight, so a page open on the shim's host could otherwise verify codes when no API key is set.
 */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/json[ \t]*(;|$)/i.test(value.trim());
}

/** The request body, or why it is unacceptable. Stops reading as soon as the limit is passed. */
function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer } | { error: 'too_large' | 'aborted' }> {
  return new Promise((resolve) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      resolve({ error: 'too_large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve({ error: 'too_large' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      }
    });
    // A connection cut before the body ended (also by the stop's deadline): the handler must settle.
    const aborted = (): void => {
      if (!done) {
        done = true;
        resolve({ error: 'aborted' });
      }
    };
    req.on('error', aborted);
    req.on('close', aborted);
  });
}

/** `{user, code, client_ip?}` from the body, or undefined when it is not that shape. */
export function parseVerifyRequest(body: Buffer): { user: string; code: string; clientIp?: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { user, code, client_ip: clientIp } = value as { user?: unknown; code?: unknown; client_ip?: unknown };
  if (typeof user !== 'string' || typeof code !== 'string') return undefined;
  if (user.trim() === '' || user.length > MAX_USER_LENGTH || code === '' || code.length > MAX_CODE_LENGTH) return undefined;
  if (clientIp === undefined || clientIp === null) return { user, code };
  // The end user's address, as an IPv4 or IPv6 address (what the caller saw), as the source it counts
  // as: one text per address (each way of writing it must not count as another source), an IPv6 one by its /64.
  const address = typeof clientIp === 'string' ? endUserSource(clientIp) : undefined;
  if (address === undefined) return undefined;
  return { user, code, clientIp: address };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The shim's HTTP(S) server: POST /v1/verify, GET /healthz, GET /metrics.
 * Order of checks on /v1/verify: rate limit (cheapest, also slows API-key guessing), API key,
 * Content-Type, body, verification. Only well-formed requests from authorised clients reach a
 * user's fail counter. Once the service stops, every new request is refused (HttpDrain).
 */
export function createShimServer(opts: ShimHttpOptions): Server {
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const expectedKey = opts.apiKey !== undefined ? digest(opts.apiKey) : undefined;
  const drain = opts.drain ?? new HttpDrain();

  const authorised = (req: IncomingMessage): boolean => {
    if (!expectedKey) return true;
    const m = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    // Compare digests: constant time, and the same length whatever the client sent.
    return timingSafeEqual(digest(m[1]!), expectedKey);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const q = req.url?.indexOf('?') ?? -1;
    const path = q >= 0 ? req.url!.slice(0, q) : (req.url ?? '/');

    if (drain.stopping) {
      // A request on a connection kept from before the stop: nothing decided, the connection closed.
      req.resume();
      send(res, 503, '{"error":"stopping"}', { 'retry-after': '1', connection: 'close' });
      return;
    }
    if (path === '/v1/verify') {
      if (req.method !== 'POST') {
        send(res, 405, '{"error":"method_not_allowed"}', { allow: 'POST' });
        return;
      }
      const client = clientAddress(req);
      const finish = (status: number, result: VerifyResult, reason: VerifyReason, extra?: Record<string, string>): void => {
        send(res, status, verdictBody(result, reason), extra);
        opts.metrics.latency((performance.now() - started) / 1000);
      };

      // The caller's own address as a source, worked out once for the rate limit and the failure budget.
      const caller = callerSource(client);
      const wait = opts.limiter.take(caller);
      if (wait > 0) {
        // Keeps the verify contract (result/reason); the 429 status and Retry-After tell it apart from a user lock-out.
        opts.metrics.rateLimited();
        req.resume();
        finish(429, 'reject', 'locked_out', { 'retry-after': String(wait) });
        return;
      }
      if (!authorised(req)) {
        opts.metrics.unauthorized();
        opts.audit.write({ event: 'verify', client, result: 'reject', reason: 'unauthorized', serial: null });
        req.resume();
        send(res, 401, '{"error":"unauthorized"}', { 'www-authenticate': 'Bearer' });
        return;
      }
      if (!isJsonContentType(req.headers['content-type'])) {
        // Refused before the body is read, audited and counted as a malformed request.
        const sent = req.headers['content-type'];
        opts.gate.malformed({ client, detail: sent === undefined || sent.trim() === '' ? 'no Content-Type (application/json required)' : `Content-Type ${printable(sent.slice(0, 100))} is not application/json` });
        req.resume();
        send(res, 415, '{"error":"unsupported_media_type"}');
        opts.metrics.latency((performance.now() - started) / 1000);
        return;
      }
      const read = await readBody(req, maxBody);
      const request = 'body' in read ? parseVerifyRequest(read.body) : undefined;
      if (!request) {
        opts.gate.malformed({ client });
        // After an oversized body, neither read the rest nor keep the connection.
        finish(400, 'reject', 'malformed', 'error' in read ? { connection: 'close' } : undefined);
        return;
      }
      const authenticated = expectedKey !== undefined;
      const source = sourceOf(authenticated, request.clientIp, caller);
      const outcome = await opts.gate.verify({ user: request.user, code: request.code, who: { source, authenticated }, client, budget: opts.budget });
      if (outcome.kind === 'unavailable') {
        // As /healthz says it (the state first: that one needs a restart).
        send(res, 503, opts.unhealthyReason?.() === 'audit_unavailable' ? '{"error":"audit_unavailable"}' : '{"error":"state_unavailable"}');
        return;
      }
      if (outcome.kind === 'busy') {
        // Nothing was decided: the same request again shortly is the answer (not a lock-out, not an outage).
        send(res, 503, '{"error":"busy"}', { 'retry-after': '1' });
        return;
      }
      if (outcome.kind === 'refused') {
        // As the rate limit: the verdict shape, with 429 and Retry-After telling it apart from a user lock-out.
        finish(429, 'reject', 'locked_out', { 'retry-after': String(outcome.retryAfterSeconds) });
        return;
      }
      finish(200, outcome.verdict.result, outcome.verdict.reason);
      return;
    }

    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const ok = opts.healthy();
      send(res, ok ? 200 : 503, ok ? '{"status":"ok"}' : JSON.stringify({ status: 'failing', error: opts.unhealthyReason?.() ?? 'state_unavailable' }));
      return;
    }
    if (path === '/metrics' && req.method === 'GET') {
      if (!authorised(req)) {
        opts.metrics.unauthorized();
        send(res, 401, '{"error":"unauthorized"}', { 'www-authenticate': 'Bearer' });
        return;
      }
      const text = Buffer.from(opts.metrics.render({ ...(await opts.gauges()), healthy: opts.healthy() }));
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': String(text.length), 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    req.resume();
    send(res, 404, '{"error":"not_found"}');
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    drain.track(
      res,
      handle(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, '{"error":"internal_error"}');
        else res.destroy();
      }),
    );
  };

  const server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, listener)
    : createHttpServer(listener);
  drain.watch(server);
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  // Malformed HTTP (not JSON, the parser itself) gets a plain 400 and the connection closed.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
