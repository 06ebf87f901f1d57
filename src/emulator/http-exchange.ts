import { randomUUID, timingSafeEqual } from 'node:crypto';
import { safeDecode } from './batch.js';
import type { Emulator } from './emulator.js';
import { errorBody, errors, GraphError } from './graph-error.js';
import { JSON_CONTENT_TYPE, type ApiVersion, type GraphRequest, type GraphResponse } from './graph-request.js';
import { isPlainObject } from './policy-rules.js';
import { guidFromName } from './prng.js';
import { redactBody } from './request-log.js';
import { snapshotState } from './snapshot.js';
import { TenantFileError } from './tenant-file.js';

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

/**
 * The emulator's HTTP surface without a socket: parsing, authentication, latency, the request log
 * and the /_emulator endpoints. server.ts feeds it from node:http; in-process.ts from a fetch
 * function, so tests run the same Graph with no port.
 */
export class HttpExchange {
  readonly #appIds = new Map<string, string>();

  constructor(readonly emulator: Emulator) {}

  async handle(req: HttpRequestIn): Promise<HttpResponseOut> {
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method.toUpperCase();
    const raw = req.body;
    if (raw === null) return json(413, { error: { code: 'RequestEntityTooLarge', message: 'The request body is too large.' } });

    if (path === '/_emulator' || path.startsWith('/_emulator/')) return this.#introspection(method, path, raw);

    const started = new Date().toISOString();
    if (this.emulator.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.emulator.options.latencyMs));

    const requestId = randomUUID();
    const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const clientRequestId = headers['client-request-id'] ?? requestId;
    const segments = path.split('/').slice(1).map(safeDecode);
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    const versionSegment = (segments.shift() ?? '').toLowerCase();
    const base: GraphRequest = {
      method,
      version: 'v1.0',
      segments,
      query: new URLSearchParams(rawQuery),
      headers,
      body: undefined,
      appId: '',
      requestId,
      clientRequestId,
    };

    let response: GraphResponse;
    let items: unknown[] | undefined;
    let loggedBody: unknown = null;
    try {
      if (versionSegment !== 'v1.0' && versionSegment !== 'beta') throw errors.invalidVersion(versionSegment || '(none)');
      base.version = versionSegment as ApiVersion;
      base.appId = this.#authenticate(headers['authorization']);
      if (raw !== undefined && raw.length > 0) {
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

  /** The calling app: the `appid` (or `azp`) claim of a JWT, else a GUID derived from the token (never the token itself). */
  #authenticate(authorization: string | undefined): string {
    const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!m) throw errors.noToken();
    const token = m[1]!;
    const expected = this.emulator.options.token;
    if (expected !== undefined) {
      const a = Buffer.from(token);
      const b = Buffer.from(expected);
      if (a.length !== b.length || !timingSafeEqual(a, b)) throw errors.badToken();
    }
    let appId = this.#appIds.get(token);
    if (!appId) {
      appId = appIdOf(token);
      if (this.#appIds.size > 1000) this.#appIds.clear();
      this.#appIds.set(token, appId);
    }
    return appId;
  }

  #introspection(method: string, path: string, raw: Buffer | undefined): HttpResponseOut {
    const route = path.replace(/\/+$/, '');
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

function appIdOf(token: string): string {
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const id = claims['appid'] ?? claims['azp'];
      if (typeof id === 'string' && id.length > 0) return id;
    } catch {
      // not a JWT after all
    }
  }
  return guidFromName('bearer-token', token);
}

function json(status: number, body?: unknown, headers: Record<string, string> = {}): HttpResponseOut {
  const text = body !== undefined ? JSON.stringify(body) : undefined;
  return { status, headers: text !== undefined ? { 'Content-Type': JSON_CONTENT_TYPE, ...headers } : headers, body: text };
}
