import { createHmac, randomBytes } from 'node:crypto';
import { errors } from './graph-error.js';
import type { GraphRequest } from './graph-request.js';

/**
 * Server-driven paging as Graph does it: a page carries an absolute `@odata.nextLink`; its $skiptoken is opaque
 * (signed here, so a client cannot make one up) and only valid with the query it was issued for, so the link
 * must be followed whole.
 */
export class PageTokens {
  readonly #key = randomBytes(16);

  /** The next link for the page after `offset` of the collection `req` asked for. */
  nextLink(baseUrl: string, req: GraphRequest, offset: number): string {
    const params = otherParams(req.query);
    const payload = Buffer.from(JSON.stringify({ o: offset, p: pathKey(req), q: canonical(params) })).toString('base64url');
    const token = `${payload}.${this.#sign(payload)}`;
    const path = req.segments.map(encodeURIComponent).join('/');
    const query = [...params, ['$skiptoken', token] as [string, string]].map(([k, v]) => `${k}=${encodeValue(v)}`).join('&');
    return `${baseUrl}/${req.version}/${path}?${query}`;
  }

  /** The offset a request starts at: 0 without $skiptoken; Graph's error for a token that is not ours or not for this query. */
  offsetOf(req: GraphRequest): number {
    const token = req.query.get('$skiptoken');
    if (token === null) return 0;
    const [payload, signature] = token.split('.');
    if (!payload || !signature || this.#sign(payload) !== signature) throw errors.expiredPageToken();
    let decoded: { o?: unknown; p?: unknown; q?: unknown };
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw errors.expiredPageToken();
    }
    if (typeof decoded.o !== 'number' || decoded.p !== pathKey(req) || decoded.q !== canonical(otherParams(req.query))) {
      throw errors.expiredPageToken();
    }
    return decoded.o;
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url').slice(0, 16);
  }
}

function otherParams(query: URLSearchParams): [string, string][] {
  return [...query.entries()].filter(([k]) => k.toLowerCase() !== '$skiptoken');
}

function canonical(params: [string, string][]): string {
  return params
    .map(([k, v]) => `${k.toLowerCase()}=${v}`)
    .sort()
    .join('&');
}

function pathKey(req: GraphRequest): string {
  return `${req.version}/${req.segments.join('/')}`.toLowerCase();
}

function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/%24/g, '$').replace(/%2C/gi, ',');
}

/** Slices one page and says where the next starts, if anywhere. */
export function pageOf<T>(items: T[], offset: number, size: number): { page: T[]; next: number | undefined } {
  const page = items.slice(offset, offset + size);
  return { page, next: offset + size < items.length ? offset + size : undefined };
}
