import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { safeDecode } from './batch.js';
import type { Emulator } from './emulator.js';
import { errorBody, errors, GraphError } from './graph-error.js';
import { JSON_CONTENT_TYPE, type ApiVersion, type GraphRequest, type GraphResponse } from './graph-request.js';
import { isPlainObject } from './policy-rules.js';
import { guidFromName } from './prng.js';
import { redactBody } from './request-log.js';
import { snapshotState } from './snapshot.js';
import { TenantFileError } from './tenant-file.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Puts an Emulator on node:http: parsing, authentication, latency, logging and the /_emulator endpoints. */
export class EmulatorServer {
  readonly #server: Server;
  readonly #appIds = new Map<string, string>();

  constructor(readonly emulator: Emulator) {
    this.#server = createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        process.stderr.write(`graph emulator: ${(err as Error).stack ?? String(err)}\n`);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': JSON_CONTENT_TYPE });
        res.end();
      });
    });
  }

  async listen(host: string, port: number): Promise<{ url: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const url = `http://${shownHost}:${address.port}`;
    this.emulator.baseUrl = url;
    return { url, port: address.port };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    const raw = hasBody ? await readBody(req) : undefined;
    if (raw === null) return send(res, 413, { error: { code: 'RequestEntityTooLarge', message: 'The request body is too large.' } });

    if (path === '/_emulator' || path.startsWith('/_emulator/')) return this.#introspection(method, path, raw, res);

    const started = new Date().toISOString();
    if (this.emulator.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.emulator.options.latencyMs));

    const requestId = randomUUID();
    const clientRequestId = headerValue(req.headers['client-request-id']) ?? requestId;
    const segments = path.split('/').slice(1).map(safeDecode);
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    const versionSegment = (segments.shift() ?? '').toLowerCase();
    // Node lower-cases header names; only set-cookie (never sent to Graph) arrives as an array.
    const headers = req.headers as Record<string, string>;
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
    res.writeHead(response.status, {
      ...response.headers,
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'Content-Length': text !== undefined ? Buffer.byteLength(text) : 0,
    });
    res.end(text);
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

  #introspection(method: string, path: string, raw: Buffer | undefined, res: ServerResponse): void {
    const route = path.replace(/\/+$/, '');
    if (route === '/_emulator/state' && method === 'GET') return send(res, 200, snapshotState(this.emulator.state));
    if (route === '/_emulator/requests' && method === 'GET') {
      return send(res, 200, this.emulator.log.entries(), { 'x-emulator-dropped': String(this.emulator.log.dropped) });
    }
    if (route === '/_emulator/requests' && method === 'DELETE') {
      this.emulator.log.clear();
      return send(res, 204);
    }
    if (route === '/_emulator/reset' && method === 'POST') {
      let tenant: Record<string, unknown> | undefined;
      if (raw !== undefined && raw.length > 0) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          return send(res, 400, { error: { code: 'BadRequest', message: 'The reset body must be a tenant document in JSON.' } });
        }
        if (!isPlainObject(parsed)) return send(res, 400, { error: { code: 'BadRequest', message: 'The reset body must be a tenant document.' } });
        tenant = parsed;
      }
      try {
        this.emulator.reset(tenant);
      } catch (err) {
        if (err instanceof TenantFileError) return send(res, 400, { error: { code: 'InvalidTenant', message: err.message } });
        throw err;
      }
      return send(res, 204);
    }
    return send(res, 404, errorBody('NotFound', `No emulator endpoint ${method} ${path}.`, randomUUID(), randomUUID()));
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

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body !== undefined ? JSON.stringify(body) : undefined;
  const length = { 'Content-Length': text !== undefined ? Buffer.byteLength(text) : 0 };
  res.writeHead(status, text !== undefined ? { 'Content-Type': JSON_CONTENT_TYPE, ...headers, ...length } : { ...headers, ...length });
  res.end(text);
}

/** The body, or null when it is over the size limit. */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
