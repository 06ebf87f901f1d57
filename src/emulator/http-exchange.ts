import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Emulator } from './emulator.js';
import { errorBody, errors, GraphError } from './graph-error.js';
import { isJsonContentType, JSON_CONTENT_TYPE, type ApiVersion, type GraphRequest, type GraphResponse } from './graph-request.js';
import { decodeToken, grantOf, mintToken, signedInUserOf, TOKEN_LIFETIME_SECONDS, type Grant, type SignedInUser } from './identity.js';
import { isPlainObject } from './policy-rules.js';
import { guidFromName } from './prng.js';
import { redactBody } from './request-log.js';
import { snapshotState } from './snapshot.js';
import { TenantFileError } from './tenant-file.js';
import { parsePath, safeDecode } from './url-path.js';

/** An HTTP request as the emulator needs it, from a socket or from an in-process fetch. */
export interface HttpRequestIn {
  method: string;
  /** Path and query, e.g. `/v1.0/users?$top=5`. */
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The body; null when it was over the size limit. */
  body: Buffer | undefined | null;
}

export interface HttpResponseOut {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or undefined for an empty body. */
  body: string | undefined;
}

/** Largest request body the emulator reads. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Largest request body Graph takes (4 MiB): a bulk token create must stay under it. */
export const GRAPH_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Tokens minted by POST /_emulator/token that a --token emulator remembers (the oldest are forgotten first). */
const MINTED_TOKENS_KEPT = 10_000;

interface Caller {
  appId: string;
  grant: Grant;
  signedIn?: SignedInUser;
}

/**
 * The emulator's HTTP surface without a socket: parsing, authentication, latency, the request log
 * and the /_emulator endpoints. server.ts feeds it from node:http; in-process.ts from a fetch
 * function, so tests run the same Graph with no port.
 */
export class HttpExchange {
  readonly #callers = new Map<string, Caller>();
  /** Tokens this emulator minted: accepted besides --token itself. */
  readonly #minted = new Set<string>();

  constructor(readonly emulator: Emulator) {}

  async handle(req: HttpRequestIn): Promise<HttpResponseOut> {
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method.toUpperCase();
    const raw = req.body;
    if (raw === null) return json(413, { error: { code: 'RequestEntityTooLarge', message: 'The request body is too large.' } });

    if (path === '/_emulator' || path.startsWith('/_emulator/')) return this.#introspection(method, path, raw, req.headers['authorization']);

    const started = new Date().toISOString();
    if (this.emulator.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.emulator.options.latencyMs));

    const requestId = randomUUID();
    const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const clientRequestId = headers['client-request-id'] ?? requestId;
    const slash = path.indexOf('/', 1);
    const versionSegment = safeDecode(slash < 0 ? path.slice(1) : path.slice(1, slash)).toLowerCase();
    const { segments, keys } = parsePath(slash < 0 ? '' : path.slice(slash + 1));
    const base: GraphRequest = {
      method,
      version: 'v1.0',
      segments,
      keys,
      rawPath: slash < 0 ? '' : path.slice(slash + 1),
      query: new URLSearchParams(rawQuery),
      headers,
      body: undefined,
      appId: '',
      grant: 'unscoped',
      requestId,
      clientRequestId,
    };

    let response: GraphResponse;
    let items: unknown[] | undefined;
    let loggedBody: unknown = null;
    try {
      if (versionSegment !== 'v1.0' && versionSegment !== 'beta') throw errors.invalidVersion(versionSegment || '(none)');
      base.version = versionSegment as ApiVersion;
      const caller = this.#authenticate(headers['authorization']);
      base.appId = caller.appId;
      base.grant = caller.grant;
      if (caller.signedIn) base.signedIn = caller.signedIn;
      if (raw !== undefined && raw.length > GRAPH_MAX_BODY_BYTES) throw errors.tooLarge();
      if (raw !== undefined && raw.length > 0) {
        // Graph reads a body only as JSON it is told of: without Content-Type: application/json it has been
        // seen to answer this 400 (microsoft-graph-docs-contrib#6337; its error page also lists 415 for a type
        // it does not take, without saying where). 400, as a $batch item without one gets (batch.ts).
        if (!isJsonContentType(headers['content-type'])) throw errors.invalidJson();
        try {
          base.body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw errors.invalidJson();
        }
      }
      if (segments.length === 1 && segments[0] === '$batch') {
        if (method !== 'POST') throw errors.methodNotAllowed(['POST']);
        const outcome = this.emulator.executeBatch(base);
        response = outcome.response;
        items = outcome.items;
      } else {
        // A $batch's bodies are logged per item, not twice.
        if (base.body !== undefined) loggedBody = redactBody(base.body);
        response = this.emulator.execute(base);
      }
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      response = this.emulator.errorResponse(base, err, {});
    }

    this.emulator.log.add({
      time: started,
      method,
      path: url,
      status: response.status,
      body: loggedBody,
      ...(items ? { items: items as never } : {}),
    });
    const text = response.body !== undefined ? JSON.stringify(response.body) : undefined;
    return {
      status: response.status,
      headers: { ...response.headers, 'request-id': requestId, 'client-request-id': clientRequestId },
      body: text,
    };
  }

  /**
   * The caller of a Graph request. Without --token any bearer token is taken; with it, only that token or one
   * this emulator minted. The application is the `appid` (or `azp`) claim of a JWT, else a GUID derived from
   * the token (never the token itself); its permissions are the token's `roles` or `scp` claim.
   */
  #authenticate(authorization: string | undefined): Caller {
    const token = bearerToken(authorization);
    if (token === undefined) throw errors.noToken();
    if (!this.#minted.has(token) && !this.#isSharedSecret(token)) throw errors.badToken();
    let caller = this.#callers.get(token);
    if (!caller) {
      const claims = decodeToken(token);
      const id = claims?.appid ?? claims?.azp;
      const signedIn = signedInUserOf(claims);
      caller = { appId: typeof id === 'string' && id.length > 0 ? id : guidFromName('bearer-token', token), grant: grantOf(claims), ...(signedIn ? { signedIn } : {}) };
      if (this.#callers.size > 1000) this.#callers.clear();
      this.#callers.set(token, caller);
    }
    return caller;
  }

  /** True when `token` is --token (compared in constant time), or when no --token was set. */
  #isSharedSecret(token: string | undefined): boolean {
    const expected = this.emulator.options.token;
    if (expected === undefined) return true;
    if (token === undefined) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** POST /_emulator/token: a JWT-shaped, unsigned token for the tenant file's identity (OAuth's token response shape). */
  #mint(): HttpResponseOut {
    const { state } = this.emulator;
    const token = mintToken(state.tenant.id, state.identity);
    if (this.emulator.options.token !== undefined) {
      if (this.#minted.size >= MINTED_TOKENS_KEPT) this.#minted.delete(this.#minted.values().next().value!);
      this.#minted.add(token);
    }
    return json(200, { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS, ext_expires_in: TOKEN_LIFETIME_SECONDS, access_token: token });
  }

  /** The /_emulator endpoints; with --token they need it too (they can read phone numbers and reset the tenant). */
  #introspection(method: string, path: string, raw: Buffer | undefined, authorization: string | undefined): HttpResponseOut {
    const route = path.replace(/\/+$/, '');
    if (!this.#isSharedSecret(bearerToken(authorization))) {
      const err = errors.badToken();
      return json(401, errorBody(err.code, err.message, randomUUID(), randomUUID()), err.headers);
    }
    if (route === '/_emulator/token' && method === 'POST') return this.#mint();
    if (route === '/_emulator/state' && method === 'GET') return json(200, snapshotState(this.emulator.state));
    if (route === '/_emulator/requests' && method === 'GET') {
      return json(200, this.emulator.log.entries(), { 'x-emulator-dropped': String(this.emulator.log.dropped) });
    }
    if (route === '/_emulator/requests' && method === 'DELETE') {
      this.emulator.log.clear();
      return json(204);
    }
    if (route === '/_emulator/reset' && method === 'POST') {
      let tenant: Record<string, unknown> | undefined;
      if (raw !== undefined && raw.length > 0) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          return json(400, { error: { code: 'BadRequest', message: 'The reset body must be a tenant document in JSON.' } });
        }
        if (!isPlainObject(parsed)) return json(400, { error: { code: 'BadRequest', message: 'The reset body must be a tenant document.' } });
        tenant = parsed;
      }
      try {
        this.emulator.reset(tenant);
      } catch (err) {
        if (err instanceof TenantFileError) return json(400, { error: { code: 'InvalidTenant', message: err.message } });
        throw err;
      }
      return json(204);
    }
    return json(404, errorBody('NotFound', `No emulator endpoint ${method} ${path}.`, randomUUID(), randomUUID()));
  }
}

function bearerToken(authorization: string | undefined): string | undefined {
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return m ? m[1]! : undefined;
}

function json(status: number, body?: unknown, headers: Record<string, string> = {}): HttpResponseOut {
  const text = body !== undefined ? JSON.stringify(body) : undefined;
  return { status, headers: text !== undefined ? { 'Content-Type': JSON_CONTENT_TYPE, ...headers } : headers, body: text };
}
