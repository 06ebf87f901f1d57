import { randomUUID } from 'node:crypto';
import { isHardwareOathEnabled, noteHardwareOathEnabledBefore } from './activation-gate.js';
import { runBatch } from './batch.js';
import { errorBody, errors, GraphError } from './graph-error.js';
import { JSON_CONTENT_TYPE, type GraphRequest, type GraphResponse } from './graph-request.js';
import { FaultInjector } from './faults.js';
import { repeatedQueryOption } from './odata-query.js';
import type { ResolvedOptions } from './options.js';
import { PageTokens } from './paging.js';
import { permissionProblem } from './permissions.js';
import { selfServiceProblem } from './self-service.js';
import { Prng } from './prng.js';
import { RequestLog, type RequestLogEntry } from './request-log.js';
import { RequestRecorder } from './request-recorder.js';
import { Router } from './router.js';
import { registerDirectoryRoutes } from './routes/directory.js';
import { registerDomainRoutes } from './routes/domains.js';
import { registerFeatureRolloutRoutes } from './routes/feature-rollout.js';
import { registerHardwareOathRoutes } from './routes/hardware-oath.js';
import { registerPolicyRoutes } from './routes/policy.js';
import { registerUserMethodRoutes } from './routes/user-methods.js';
import type { EmulatorState } from './state.js';
import { buildState, readTenantFile, TenantFileError } from './tenant-file.js';
import { announcedWaitMs, resourceUnitCost, retryAfterHeader, Throttle } from './throttle.js';

/**
 * The emulated Graph service, independent of HTTP: state, routing, throttling, faults, batching and the
 * request log. server.ts puts it on a socket.
 */
export class Emulator {
  readonly router = new Router();
  readonly pages = new PageTokens();
  readonly log: RequestLog;
  readonly recorder: RequestRecorder;
  state!: EmulatorState;
  throttle: Throttle | undefined;
  faults!: FaultInjector;
  batchOrder!: Prng;
  /** Scheme, host and port, set once the server listens. */
  baseUrl = 'http://localhost';

  constructor(readonly options: ResolvedOptions) {
    registerDirectoryRoutes(this.router);
    registerPolicyRoutes(this.router);
    registerUserMethodRoutes(this.router);
    registerHardwareOathRoutes(this.router);
    registerFeatureRolloutRoutes(this.router);
    registerDomainRoutes(this.router);
    this.log = new RequestLog(options.requestLogLimit);
    this.recorder = new RequestRecorder(options.onRequest, options.recordDir);
    this.reset();
  }

  /**
   * Back to the state of a fresh start: the tenant re-read (from its file, or `tenant` when given),
   * generated ids, throttling budgets, fault draws and the request log all start over.
   */
  reset(tenant?: Record<string, unknown>): void {
    const source = tenant ?? this.options.tenant;
    const input = typeof source === 'string' ? readTenantFile(source) : source;
    const label = typeof source === 'string' ? source : '(inline tenant)';
    const state = buildState(input, label, this.options.seed);
    state.behaviour = { ...state.behaviour, ...this.options.behaviour };
    const enabledBefore = state.behaviour.hardwareOathEnabledSecondsBeforeStart;
    if (enabledBefore !== null) {
      // The tenant file's own is checked with the file; one given by the options is checked against it here.
      if (!isHardwareOathEnabled(state)) throw new TenantFileError(label, ['$.authenticationMethodsPolicy: HardwareOath is disabled, but behaviour.hardwareOathEnabledSecondsBeforeStart says it was enabled before the start']);
      noteHardwareOathEnabledBefore(state, enabledBefore, this.options.timeScale);
    }
    this.state = state;
    const mode = this.options.throttle;
    const size = mode === 'tenant' ? this.state.tenant.size : mode;
    this.throttle =
      size === 'off'
        ? undefined
        : new Throttle(this.state.tenant.id, { ...Throttle.limitsFor(size), ...this.options.throttleLimits }, this.options.timeScale, (ms) =>
            announcedWaitMs(ms, this.options.timeScale),
          );
    this.faults = new FaultInjector(this.options.faultRate, this.options.seed);
    this.batchOrder = new Prng(this.options.seed, 'batch-order');
    this.log.clear();
  }

  /** One Graph operation (a direct request or a $batch item): route, throttle, fault, handle; recorded for contract tests. */
  execute(req: GraphRequest): GraphResponse {
    const response = this.#execute(req);
    this.recorder.record(req, response.status);
    return response;
  }

  #execute(req: GraphRequest): GraphResponse {
    // A cloud without the beta endpoints answers as for any unknown segment.
    if (req.version === 'beta' && !this.state.behaviour.betaAvailable) return this.errorResponse(req, errors.segmentNotFound(req.segments[0] ?? ''), {});
    const match = this.router.match(req.version, req.method, req.segments, req.keys);
    if (match instanceof GraphError) return this.errorResponse(req, match, {});
    const denied = permissionProblem(req.method, match.route.pattern, req.grant);
    if (denied) return this.errorResponse(req, denied, {});
    const ownAccount = selfServiceProblem(req, match.route.pattern, match.params, this.state);
    if (ownAccount) return this.errorResponse(req, ownAccount, {});
    const isWrite = req.method !== 'GET';
    const cost = resourceUnitCost(req.method, match.route.readCost, req.query);
    const headers: Record<string, string> = { 'x-ms-resource-unit': String(cost) };
    if (this.throttle) {
      const decision = this.throttle.check(req.appId, cost, isWrite, performance.now());
      if (decision.limitPercentage !== undefined) headers['x-ms-throttle-limit-percentage'] = decision.limitPercentage.toFixed(1);
      if (!decision.allowed) {
        return this.errorResponse(
          req,
          new GraphError(429, 'TooManyRequests', 'Too many requests. Wait for the time given in the Retry-After header before retrying.', {
            'Retry-After': retryAfterHeader(decision.retryAfterMs, this.options.timeScale),
            'x-ms-throttle-scope': decision.scope,
            'x-ms-throttle-information': decision.reason,
          }),
          headers,
        );
      }
    }
    const repeated = repeatedQueryOption(req.query);
    if (repeated) return this.errorResponse(req, repeated, headers);
    const ctx = { req, params: match.params, state: this.state, baseUrl: this.baseUrl, pages: this.pages, timeScale: this.options.timeScale };
    const fault = this.faults.next(isWrite);
    if (fault) {
      if (fault.applyFirst) {
        try {
          match.handler(ctx);
        } catch {
          // The client sees the fault either way.
        }
      }
      return this.errorResponse(req, new GraphError(fault.status, fault.code, fault.message), headers);
    }
    try {
      const result = match.handler(ctx);
      const out: Record<string, string> = { ...headers, ...result.headers };
      if (result.body !== undefined) out['Content-Type'] = JSON_CONTENT_TYPE;
      return { status: result.status, headers: out, ...(result.body !== undefined ? { body: result.body } : {}) };
    } catch (err) {
      if (err instanceof GraphError) return this.errorResponse(req, err, headers);
      process.stderr.write(`graph emulator: internal error on ${req.method} /${req.version}/${req.segments.join('/')}: ${(err as Error).stack ?? String(err)}\n`);
      return this.errorResponse(req, new GraphError(500, 'generalException', 'An unspecified error has occurred.'), headers);
    }
  }

  errorResponse(req: GraphRequest, err: GraphError, headers: Record<string, string>): GraphResponse {
    return {
      status: err.status,
      headers: { ...headers, ...err.headers, 'Content-Type': JSON_CONTENT_TYPE },
      body: errorBody(err.code, err.message, req.requestId, req.clientRequestId),
    };
  }

  /** POST /$batch: the envelope costs nothing itself; each item is executed (and throttled) on its own. */
  executeBatch(envelope: GraphRequest): { response: GraphResponse; items: RequestLogEntry[] } {
    try {
      return runBatch(envelope, (item) => this.execute(item), this.batchOrder, randomUUID, (item, status) => this.recorder.record(item, status));
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      return { response: this.errorResponse(envelope, err, {}), items: [] };
    }
  }
}
