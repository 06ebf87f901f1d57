import { errors } from '../graph-error.js';
import { isPlainObject } from '../policy-rules.js';
import type { HandlerContext, HandlerResult } from '../router.js';
import type { UserRecord } from '../state.js';

/** `@odata.context` for a response, relative to the emulator's own base URL. */
export function odataContext(ctx: HandlerContext, fragment: string): string {
  return `${ctx.baseUrl}/${ctx.req.version}/$metadata#${fragment}`;
}

export function collection(ctx: HandlerContext, fragment: string, value: unknown[], extra: Record<string, unknown> = {}): HandlerResult {
  return { status: 200, body: { '@odata.context': odataContext(ctx, fragment), ...extra, value } };
}

export function entity(ctx: HandlerContext, fragment: string, value: object, status = 200): HandlerResult {
  return { status, body: { '@odata.context': odataContext(ctx, fragment), ...value } };
}

export const NO_CONTENT: HandlerResult = { status: 204 };

/** The user a /users/{user}/... path names (by id or UPN), or Graph's 404. */
export function requireUser(ctx: HandlerContext): UserRecord {
  const key = ctx.params['user']!;
  const user = ctx.state.findUser(key);
  if (!user) throw errors.resourceNotFound(key);
  return user;
}

/** The JSON object body of a write, with only the listed properties (OData annotations aside). */
export function objectBody(ctx: HandlerContext, allowed: readonly string[], typeName: string): Record<string, unknown> {
  const body = ctx.req.body;
  if (!isPlainObject(body)) throw errors.badRequest('The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.')) continue;
    if (!allowed.includes(key)) throw errors.unknownProperty(key, typeName);
  }
  return body;
}

/** $-options a collection does not support are refused, as Graph's OData layer refuses them. */
export function rejectQueryOptions(ctx: HandlerContext, supported: readonly string[]): void {
  for (const key of ctx.req.query.keys()) {
    const lower = key.toLowerCase();
    if (lower.startsWith('$') && lower !== '$skiptoken' && !supported.includes(lower)) {
      throw errors.unsupportedQuery(`The query option '${key}' is not supported on this resource.`);
    }
  }
}

/** behaviour.replicationLagSeconds in this emulator's time (divided by --time-scale). */
export function lagMs(ctx: HandlerContext): number {
  return (ctx.state.behaviour.replicationLagSeconds * 1000) / ctx.timeScale;
}
