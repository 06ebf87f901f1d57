/** Graph's two API versions. A `$batch` envelope holds requests of one version only. */
export type GraphVersion = 'v1.0' | 'beta';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * One Graph request, as the typed calls of src/graph/calls describe it: version, method, the path
 * under the version root (`/users/{id}/...`), and the JSON body. Paths exist only in src/graph.
 */
export interface GraphCall {
  method: HttpMethod;
  version: GraphVersion;
  path: string;
  body?: unknown;
  /** Request headers the call needs beyond the transport's own (e.g. `Prefer`), sent on every page and inside `$batch` too. */
  headers?: Readonly<Record<string, string>>;
  /**
   * A POST that changes nothing (an action such as checkMemberGroups): retried like a read, since
   * sending it again is harmless, where a write's failed answer leaves its outcome unknown.
   */
  safe?: true;
}

/** An answer from Graph, direct or a `$batch` item; the body parsed when it is JSON. */
export interface GraphResponse<T = unknown> {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: T;
}

export function isWriteCall(call: Pick<GraphCall, 'method' | 'safe'>): boolean {
  return call.method !== 'GET' && call.safe !== true;
}

export function isSuccess(res: GraphResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

/**
 * Graph's error code and message of a failed answer, as one line: `404 Request_ResourceNotFound: ...`.
 * It goes into journals and reports, which are kept: a message that quotes the request (a gateway or
 * proxy that echoes bodies; a black-box test put one in front of Graph) has its seeds and codes taken out.
 */
export function errorText(res: GraphResponse): string {
  const e = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
  return `${res.status}${e?.code ? ` ${e.code}` : ''}${e?.message ? `: ${withoutSecrets(String(e.message))}` : ''}`;
}

/** What a token write's body holds that must not be kept: the seed (`secretKey`, Base32 as sent) and the activation code. */
const SECRET_FIELD = /(\\?"?(?:secretKey|verificationCode)\\?"?\s*[:=]\s*\\?"?)[^"\\,}&\s]*/gi;
/**
 * A Base32 run as a seed is written: 16 characters and more, either letter case, letters and digits 2-7
 * both, not part of a name (`SVCMFAADMIN@CONTOSO.COM`). The request's own secrets are taken out by value
 * before this (echoed-secrets.ts): this catches what a message quotes of other requests.
 */
const BASE32_RUN = /\b(?=[A-Za-z2-7]*[2-7])(?=[A-Za-z2-7]*[A-Za-z])[A-Za-z2-7]{16,}=*(?![\w@.])/g;
/** A JWT (an access token) quoted whole: header and payload are Base64url JSON, `eyJ...`. */
const JWT = /\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*/g;

export function withoutSecrets(text: string): string {
  return text.replace(SECRET_FIELD, '$1[redacted]').replace(JWT, '[redacted]').replace(BASE32_RUN, '[redacted]');
}

/** Retry-After in ms: seconds (integer or decimal, as the emulator sends when time-scaled) or an HTTP date. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (header.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
