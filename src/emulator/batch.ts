import { errorBody, errors, GraphError } from './graph-error.js';
import { JSON_CONTENT_TYPE, type GraphRequest, type GraphResponse } from './graph-request.js';
import { isPlainObject } from './policy-rules.js';
import type { Prng } from './prng.js';
import { redactBody, type RequestLogEntry } from './request-log.js';
import { parsePath } from './url-path.js';

/** Graph's limit of requests in one $batch. */
export const MAX_BATCH_REQUESTS = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

export interface BatchOutcome {
  response: GraphResponse;
  items: RequestLogEntry[];
}

/**
 * JSON batching: checks the envelope (400 for the whole batch when it is malformed), runs each item through
 * `execute` (the same router, rules, throttling and faults as a direct request), answers 424 to items whose
 * dependency failed, and returns the responses in an order of its own (clients must correlate by id).
 */
export function runBatch(
  envelope: GraphRequest,
  execute: (req: GraphRequest) => GraphResponse,
  order: Prng,
  newRequestId: () => string,
  /** Told of items answered 424 without running (executed ones are the executor's to record). */
  onSkipped: (req: GraphRequest, status: number) => void = () => undefined,
): BatchOutcome {
  const items = parseEnvelope(envelope.body);
  const byId = new Map(items.map((i) => [i.id.toLowerCase(), i]));
  const results = new Map<string, { id: string; status: number; headers: Record<string, string>; body?: unknown }>();
  const log: RequestLogEntry[] = [];

  for (const item of executionOrder(items, byId)) {
    const time = new Date().toISOString();
    const failed = item.dependsOn.find((d) => (results.get(d.toLowerCase())?.status ?? 0) >= 400);
    let response: GraphResponse;
    if (failed !== undefined) {
      response = {
        status: 424,
        headers: { 'Content-Type': JSON_CONTENT_TYPE },
        body: errorBody('FailedDependency', `The request depends on request '${failed}', which failed.`, newRequestId(), envelope.clientRequestId),
      };
      onSkipped(itemRequest(envelope, item, ''), 424);
    } else {
      response = execute(itemRequest(envelope, item, newRequestId()));
    }
    results.set(item.id.toLowerCase(), { id: item.id, status: response.status, headers: response.headers, ...(response.body !== undefined ? { body: response.body } : {}) });
    log.push({ time, method: item.method, path: `/${envelope.version}/${relativeUrl(envelope, item)}`, status: response.status, body: item.body === undefined ? null : redactBody(item.body), ...(item.dependsOn.length > 0 ? { dependsOn: item.dependsOn } : {}) });
  }
  const responses = order.shuffle([...results.values()]);
  return { response: { status: 200, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body: { responses } }, items: log };
}

function batchError(message: string): GraphError {
  return errors.badRequest(message);
}

function parseEnvelope(body: unknown): BatchItem[] {
  if (!isPlainObject(body) || !Array.isArray(body['requests'])) {
    throw batchError("Invalid batch payload format: the body must be a JSON object with a 'requests' array.");
  }
  const requests = body['requests'];
  if (requests.length === 0) throw batchError('The batch request must contain at least one request.');
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw batchError(`The batch contains ${requests.length} requests; the maximum is ${MAX_BATCH_REQUESTS}.`);
  }
  const seen = new Set<string>();
  const items = requests.map((raw: unknown, i): BatchItem => {
    if (!isPlainObject(raw)) throw batchError(`Invalid batch payload format: request ${i} is not an object.`);
    const { id, method, url } = raw;
    if (typeof id !== 'string' || id.length === 0) throw batchError(`Invalid batch payload format: request ${i} has no 'id'.`);
    if (seen.has(id.toLowerCase())) throw batchError(`Request id '${id}' is not unique in the batch (ids are not case-sensitive).`);
    seen.add(id.toLowerCase());
    if (typeof method !== 'string' || !/^(GET|POST|PATCH|PUT|DELETE)$/i.test(method)) {
      throw batchError(`Invalid batch payload format: request '${id}' has no valid 'method'.`);
    }
    if (typeof url !== 'string' || url.length === 0) throw batchError(`Invalid batch payload format: request '${id}' has no 'url'.`);
    const headers: Record<string, string> = {};
    if (raw['headers'] !== undefined) {
      if (!isPlainObject(raw['headers'])) throw batchError(`Invalid batch payload format: the headers of request '${id}' must be an object.`);
      for (const [k, v] of Object.entries(raw['headers'])) headers[k.toLowerCase()] = String(v);
    }
    const body = raw['body'] === null ? undefined : raw['body'];
    // A write needs both, even an action that takes no body (json-batching.md: "you must still
    // specify the headers and body parameters where only body can be an empty object"); Graph
    // refuses the whole batch otherwise. A body on any item needs its Content-Type.
    const write = /^(POST|PATCH|PUT)$/i.test(method);
    if ((body !== undefined || write) && (body === undefined || !headers['content-type'])) {
      throw batchError(`Write request id : ${id} does not contain Content-Type header or body.`);
    }
    let dependsOn: string[] = [];
    if (raw['dependsOn'] !== undefined) {
      if (!Array.isArray(raw['dependsOn']) || raw['dependsOn'].some((d) => typeof d !== 'string')) {
        throw batchError(`Invalid batch payload format: dependsOn of request '${id}' must be an array of request ids.`);
      }
      dependsOn = raw['dependsOn'] as string[];
    }
    return { id, method: method.toUpperCase(), url, headers, body, dependsOn };
  });
  const ids = new Set(items.map((i) => i.id.toLowerCase()));
  for (const item of items) {
    for (const d of item.dependsOn) {
      if (!ids.has(d.toLowerCase())) throw batchError(`Request '${item.id}' depends on '${d}', which is not in the batch.`);
      if (d.toLowerCase() === item.id.toLowerCase()) throw batchError(`Request '${item.id}' depends on itself.`);
    }
  }
  // Graph refuses any other shape (several chains, a fan-out, a dependency later in the array) with
  // this message: a batch is either fully parallel or one chain, each request after the one before.
  const parallel = items.every((i) => i.dependsOn.length === 0);
  const sequential = items.every((item, k) =>
    k === 0 ? item.dependsOn.length === 0 : item.dependsOn.length === 1 && item.dependsOn[0]!.toLowerCase() === items[k - 1]!.id.toLowerCase(),
  );
  if (!parallel && !sequential) throw batchError('Batch should be either fully sequential or fully parallel.');
  return items;
}

/** Dependencies before dependents, otherwise in the order sent; a cycle makes the batch malformed. */
function executionOrder(items: BatchItem[], byId: Map<string, BatchItem>): BatchItem[] {
  const out: BatchItem[] = [];
  const state = new Map<BatchItem, 'visiting' | 'done'>();
  const visit = (item: BatchItem): void => {
    const s = state.get(item);
    if (s === 'done') return;
    if (s === 'visiting') throw batchError(`The dependsOn references of request '${item.id}' form a cycle.`);
    state.set(item, 'visiting');
    for (const d of item.dependsOn) visit(byId.get(d.toLowerCase())!);
    state.set(item, 'done');
    out.push(item);
  };
  items.forEach(visit);
  return out;
}

/**
 * The item URL without its leading '/'. The Graph JavaScript SDK turns absolute request URLs into
 * '/v1.0/...', so a leading segment naming the batch's own version is dropped.
 */
function relativeUrl(envelope: GraphRequest, item: BatchItem): string {
  const relative = item.url.replace(/^\//, '');
  const prefix = `${envelope.version}/`;
  return relative.toLowerCase().startsWith(prefix) ? relative.slice(prefix.length) : relative;
}

function itemRequest(envelope: GraphRequest, item: BatchItem, requestId: string): GraphRequest {
  const relative = relativeUrl(envelope, item);
  const q = relative.indexOf('?');
  const path = q < 0 ? relative : relative.slice(0, q);
  const rawQuery = q < 0 ? '' : relative.slice(q + 1);
  const { segments, keys } = parsePath(path);
  return {
    method: item.method,
    version: envelope.version,
    segments,
    keys,
    rawPath: path,
    query: new URLSearchParams(rawQuery),
    headers: item.headers,
    body: item.body,
    appId: envelope.appId,
    grant: envelope.grant,
    ...(envelope.signedIn ? { signedIn: envelope.signedIn } : {}),
    requestId,
    clientRequestId: item.headers['client-request-id'] ?? envelope.clientRequestId,
  };
}
