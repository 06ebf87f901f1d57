import { errors, GraphError } from './graph-error.js';
import type { ApiVersion, GraphRequest } from './graph-request.js';
import type { PageTokens } from './paging.js';
import type { EmulatorState } from './state.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface HandlerContext {
  req: GraphRequest;
  /** Path parameters by the names in the route pattern. */
  params: Record<string, string>;
  state: EmulatorState;
  /** Scheme, host and port of the emulator, e.g. http://127.0.0.1:5580 (for absolute links). */
  baseUrl: string;
  pages: PageTokens;
  /** --time-scale: divides the emulator's own waits (policy propagation, activation pace). */
  timeScale: number;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: HandlerContext) => HandlerResult;

export interface RouteSpec {
  /** Segments separated by '/', `{name}` for a parameter, e.g. 'users/{user}/authentication/phoneMethods/{id}'. */
  pattern: string;
  /** Versions that serve the route; both when omitted. */
  versions?: ApiVersion[];
  /** Base resource-unit cost of a GET (Graph's table: 1 unless listed). Writes always cost 1 RU and 1 write. */
  readCost?: number;
  handlers: Partial<Record<HttpMethod, Handler>>;
}

export interface RouteMatch {
  route: RouteSpec;
  handler: Handler;
  params: Record<string, string>;
}

interface Node {
  literals: Map<string, Node>;
  param?: { name: string; node: Node };
  route?: RouteSpec;
}

const newNode = (): Node => ({ literals: new Map() });

/** Path matching per API version. Literal segments match case-insensitively, as Graph's do. */
export class Router {
  readonly #roots: Record<ApiVersion, Node> = { 'v1.0': newNode(), beta: newNode() };
  readonly #specs: RouteSpec[] = [];

  /** Every route added, in the order added. */
  routes(): readonly RouteSpec[] {
    return this.#specs;
  }

  add(spec: RouteSpec): void {
    this.#specs.push(spec);
    for (const version of spec.versions ?? (['v1.0', 'beta'] as const)) {
      let node = this.#roots[version];
      for (const segment of spec.pattern.split('/')) {
        const param = /^\{(\w+)\}$/.exec(segment);
        if (param) {
          node.param ??= { name: param[1]!, node: newNode() };
          node = node.param.node;
        } else {
          const key = segment.toLowerCase();
          let next = node.literals.get(key);
          if (!next) node.literals.set(key, (next = newNode()));
          node = next;
        }
      }
      if (node.route) throw new Error(`duplicate route ${spec.pattern}`);
      node.route = spec;
    }
  }

  /** The handler for a request, or Graph's error for an unknown segment (400) or method (405). */
  match(version: ApiVersion, method: string, segments: string[], keys: ReadonlySet<number> = new Set()): RouteMatch | GraphError {
    let node = this.#roots[version];
    const params: Record<string, string> = {};
    for (const [i, segment] of segments.entries()) {
      const isKey = keys.has(i);
      const literal = isKey ? undefined : node.literals.get(segment.toLowerCase());
      if (literal) {
        node = literal;
      } else if (node.param && segment !== '' && (isKey || !segment.startsWith('$'))) {
        params[node.param.name] = segment;
        node = node.param.node;
      } else {
        return errors.segmentNotFound(segment);
      }
    }
    if (!node.route) return errors.segmentNotFound(segments[segments.length - 1] ?? '');
    const handler = node.route.handlers[method as HttpMethod];
    if (!handler) return errors.methodNotAllowed(Object.keys(node.route.handlers));
    return { route: node.route, handler, params };
  }
}
