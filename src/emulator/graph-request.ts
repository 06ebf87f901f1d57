import type { Grant, SignedInUser } from './identity.js';

export type ApiVersion = 'v1.0' | 'beta';

/** One Graph operation: a direct HTTP request or one item of a $batch, after the version prefix is taken off. */
export interface GraphRequest {
  /** Upper case. */
  method: string;
  version: ApiVersion;
  /** Decoded path segments after the version, e.g. ['users', 'alice@contoso.com', 'authentication', 'phoneMethods']. */
  segments: string[];
  /** The path after the version as sent (undecoded, no query), for the contract record. */
  rawPath: string;
  /** Indexes of segments written in key syntax (`users('$x@y.com')`): they bind to parameters only. */
  keys: ReadonlySet<number>;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** The calling application (from the bearer token), the key of its throttling budget. */
  appId: string;
  /** The permissions the bearer token carries ('unscoped': a token that names none). */
  grant: Grant;
  /** The user a delegated token signs in (absent for an application's token, or one naming no user). */
  signedIn?: SignedInUser;
  requestId: string;
  clientRequestId: string;
}

export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON-serialisable body; undefined for 204. */
  body?: unknown;
}

/** Header value when Graph answers with JSON. */
export const JSON_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Whether a request's Content-Type is JSON: `application/json`, parameters (charset, odata.metadata) allowed. */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/json[ \t]*(;|$)/i.test(value.trim());
}
