import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/io/package-root.js';
import type { RecordedRequest } from '../../src/emulator/index.js';
import { parsePath } from '../../src/emulator/url-path.js';
import { readBetaSchemaCached } from './beta-schema-cache.js';
import { derivesFrom, elementType, findNavigation, findProperty, typeChain, type NavigationModel, type OperationModel, type PropertyModel, type SchemaModel } from './schema-model.js';

/**
 * Checks a request a client sent against Microsoft's published contract: on v1.0 the path must resolve in the
 * CSDL (entity sets and singletons, keys, navigation properties, bound actions and functions, $ref), the method
 * must suit what it names, and the body must hold only properties of the type (or the action's parameters),
 * with values of their types and enum members the schema lists. On beta the path and method must be in the
 * list taken from the beta API reference (fixtures/graph-contract/beta-paths.json) and the body must fit the
 * types of @microsoft/microsoft-graph-types-beta. A write sent to beta that v1.0 would take as it is breaks
 * the rule "v1.0 where the endpoint exists" (beta "is not supported in production applications").
 */
export type ContractRequest = Pick<RecordedRequest, 'method' | 'version' | 'path' | 'query' | 'body'>;

export type Rule =
  | 'unknown-path'
  | 'method'
  | 'unknown-property'
  | 'enum-value'
  | 'value-type'
  | 'not-nullable'
  | 'unknown-select'
  | 'unexpected-body'
  | 'beta-where-v1';

export interface Violation {
  rule: Rule;
  /** `METHOD version path`. */
  request: string;
  message: string;
}

export interface BetaPath {
  method: string;
  path: string;
  body?: { type?: string; parameters?: Record<string, string>; ref?: boolean; delta?: string };
  source: string;
}

type Target =
  | { kind: 'collection'; type: string }
  | { kind: 'entity'; type: string }
  | { kind: 'ref'; collection: boolean }
  | { kind: 'operation'; operation: OperationModel; name: string }
  | { kind: 'value'; type: string };

/**
 * Open types in Graph's CSDL (directoryObject and its kin) are open for directory extension attributes, named
 * extension_<app id without dashes>_<name>; any other unlisted name is refused as Graph refuses it.
 */
const EXTENSION_PROPERTY = /^extension_[0-9a-f]{32}_\w+$/i;
const openFor = (schema: SchemaModel, type: string, name: string) => EXTENSION_PROPERTY.test(name) && typeChain(schema, type).some((t) => t.open);

const PRIMITIVE: Record<string, (v: unknown) => boolean> = {
  'Edm.String': (v) => typeof v === 'string',
  'Edm.Boolean': (v) => typeof v === 'boolean',
  'Edm.Int16': Number.isInteger,
  'Edm.Int32': Number.isInteger,
  'Edm.Int64': Number.isInteger,
  'Edm.Byte': Number.isInteger,
  'Edm.SByte': Number.isInteger,
  'Edm.Double': (v) => typeof v === 'number',
  'Edm.Single': (v) => typeof v === 'number',
  'Edm.Decimal': (v) => typeof v === 'number',
  'Edm.Guid': (v) => typeof v === 'string' && /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(v),
  'Edm.DateTimeOffset': (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  'Edm.Date': (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v),
  'Edm.Duration': (v) => typeof v === 'string',
  'Edm.TimeOfDay': (v) => typeof v === 'string',
  'Edm.Binary': (v) => typeof v === 'string',
  'Edm.Untyped': () => true,
  'Edm.Stream': () => true,
};

/** Bodies and their checks: one per request. */
class BodyCheck {
  readonly violations: Violation[] = [];

  constructor(
    readonly schema: SchemaModel,
    readonly request: string,
  ) {}

  fail(rule: Rule, message: string): void {
    this.violations.push({ rule, request: this.request, message });
  }

  /** An object of structured type `type` (or a type derived from it named by `@odata.type`). */
  object(type: string, value: unknown, at: string, annotations: readonly string[] = []): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail('value-type', `${at}: expected an object of ${type}, got ${JSON.stringify(value)}`);
    let actual = type;
    const cast = (value as Record<string, unknown>)['@odata.type'];
    if (cast !== undefined) {
      const named = typeof cast === 'string' ? cast.replace(/^#/, '') : '';
      if (!this.schema.types[named]) return this.fail('value-type', `${at}.@odata.type: '${String(cast)}' is not a type of the schema`);
      if (!derivesFrom(this.schema, named, type)) return this.fail('value-type', `${at}.@odata.type: ${named} does not derive from ${type}`);
      actual = named;
    }
    for (const [key, v] of Object.entries(value)) {
      const path = `${at}.${key}`;
      if (key === '@odata.type' || key === '@odata.context' || annotations.includes(key)) continue;
      const bind = /^(.+)@odata\.bind$/.exec(key);
      if (bind) {
        if (!findNavigation(this.schema, actual, bind[1]!)) this.fail('unknown-property', `${path}: ${actual} has no navigation property '${bind[1]}' to bind`);
        continue;
      }
      if (key.startsWith('@')) {
        this.fail('unknown-property', `${path}: annotation '${key}' is not expected here`);
        continue;
      }
      const property = findProperty(this.schema, actual, key);
      if (property) {
        this.value(property, v, path);
        continue;
      }
      const navigation = findNavigation(this.schema, actual, key);
      if (navigation) {
        this.value({ type: navigation.type, nullable: true }, v, path);
        continue;
      }
      if (!openFor(this.schema, actual, key)) this.fail('unknown-property', `${path}: the property '${key}' does not exist on type ${actual}`);
    }
  }

  value(property: PropertyModel, v: unknown, at: string): void {
    if (v === null) {
      if (!property.nullable) this.fail('not-nullable', `${at}: null is not allowed (${property.type} is not nullable)`);
      return;
    }
    const inner = elementType(property.type);
    if (inner) {
      if (!Array.isArray(v)) return this.fail('value-type', `${at}: expected an array of ${inner}`);
      v.forEach((item, i) => this.value({ type: inner, nullable: false }, item, `${at}[${i}]`));
      return;
    }
    const primitive = PRIMITIVE[property.type];
    if (primitive) {
      if (!primitive(v)) this.fail('value-type', `${at}: ${JSON.stringify(v)} is not a ${property.type}`);
      return;
    }
    const enumType = this.schema.enums[property.type];
    if (enumType) {
      const given = typeof v === 'string' ? (enumType.flags ? v.split(',').map((s) => s.trim()) : [v]) : undefined;
      const wrong = given ? given.filter((m) => !enumType.members.includes(m)) : [String(v)];
      if (wrong.length > 0) this.fail('enum-value', `${at}: '${wrong.join(',')}' is not a member of ${property.type} (${enumType.members.join(', ')})`);
      return;
    }
    if (this.schema.types[property.type]) return this.object(property.type, v, at);
    if (property.type.startsWith('Edm.')) return;
    this.fail('value-type', `${at}: the type ${property.type} is not in the contract extract`);
  }
}

export class ContractChecker {
  constructor(
    readonly v1: SchemaModel,
    readonly beta: SchemaModel,
    readonly betaPaths: BetaPath[],
  ) {}

  check(req: ContractRequest): Violation[] {
    const label = `${req.method} ${req.version} ${req.path}${req.query ? `?${decodeURIComponent(req.query)}` : ''}`;
    if (req.version === 'beta') return this.#checkBeta(req, label);
    const check = new BodyCheck(this.v1, label);
    const target = this.#resolveV1(req, check);
    if (target) this.#checkV1(req, target, check);
    return check.violations;
  }

  // ---- v1.0: the CSDL ----

  /** Walks the path through entity sets, keys, navigation properties and bound operations. */
  #resolveV1(req: ContractRequest, check: BodyCheck): Target | undefined {
    const { segments, keys } = parsePath(req.path);
    const fail = (segment: string, why: string) => void check.fail('unknown-path', `'${segment}': ${why}`);
    const rootName = segments[0] ?? '';
    const root = Object.entries(this.v1.roots).find(([name]) => name.toLowerCase() === rootName.toLowerCase());
    if (!root) return fail(rootName, 'no entity set or singleton of that name in the contract extract');
    let target: Target = root[1].collection ? { kind: 'collection', type: root[1].type } : { kind: 'entity', type: root[1].type };
    for (let i = 1; i < segments.length; i++) {
      const s = segments[i]!;
      if (target.kind === 'ref' || target.kind === 'operation' || target.kind === 'value') return fail(s, `nothing follows '${segments[i - 1]}'`);
      if (!this.v1.types[target.type]) return fail(s, `${target.type} is beyond the contract extract (navigation depth)`);
      if (s === '$ref') {
        target = { kind: 'ref', collection: target.kind === 'collection' };
        continue;
      }
      const operation: OperationModel | undefined = keys.has(i) ? undefined : this.#operation(target, s);
      if (operation) {
        target = { kind: 'operation', operation, name: s };
        continue;
      }
      if (target.kind === 'collection') {
        target = { kind: 'entity', type: target.type };
        continue;
      }
      const navigation: NavigationModel | undefined = keys.has(i) ? undefined : this.#member(target.type, s, 'navigation');
      if (navigation) {
        const inner = elementType(navigation.type);
        target = inner ? { kind: 'collection', type: inner } : { kind: 'entity', type: navigation.type };
        continue;
      }
      const property: PropertyModel | undefined = keys.has(i) ? undefined : this.#member(target.type, s, 'properties');
      if (property) {
        target = { kind: 'value', type: property.type };
        continue;
      }
      return fail(s, `${target.type} has no navigation property, property or bound operation of that name${keys.has(i) ? ' (a key cannot go here)' : ''}`);
    }
    return target;
  }

  #member<K extends 'navigation' | 'properties'>(type: string, name: string, kind: K) {
    for (const t of typeChain(this.v1, type)) {
      const found = Object.entries(t[kind]).find(([n]) => n.toLowerCase() === name.toLowerCase());
      if (found) return found[1] as (typeof t)[K][string];
    }
    return undefined;
  }

  /** An action or function bound to the target's type (or a base type), or to a collection of it. */
  #operation(target: Extract<Target, { kind: 'collection' | 'entity' }>, name: string): OperationModel | undefined {
    const candidates = Object.entries(this.v1.operations).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? [];
    return candidates.find((op) => {
      const bound = elementType(op.bindingType);
      if ((bound !== undefined) !== (target.kind === 'collection')) return false;
      return derivesFrom(this.v1, target.type, bound ?? op.bindingType);
    });
  }

  #checkV1(req: ContractRequest, target: Target, check: BodyCheck): void {
    const method = req.method.toUpperCase();
    const hasBody = req.body !== null && req.body !== undefined;
    const wrongMethod = () => check.fail('method', `${method} does not apply to ${describe(target)}`);
    switch (target.kind) {
      case 'collection':
        if (method === 'GET') return this.#checkSelect(req, target.type, check);
        if (method === 'POST') return check.object(target.type, req.body, '$');
        return wrongMethod();
      case 'entity':
        if (method === 'GET') return this.#checkSelect(req, target.type, check);
        if (method === 'PATCH' || method === 'PUT') return check.object(target.type, req.body, '$');
        if (method === 'DELETE') return hasBody ? check.fail('unexpected-body', 'a DELETE carries no body') : undefined;
        return wrongMethod();
      case 'ref':
        if (method === 'POST' && target.collection) return checkRef(req.body, check);
        if (method === 'DELETE' && !target.collection) return;
        if (method === 'GET') return;
        return wrongMethod();
      case 'operation':
        if (target.operation.kind === 'action' ? method !== 'POST' : method !== 'GET') return wrongMethod();
        return checkParameters(target.operation.parameters, req.body, check);
      case 'value':
        if (method !== 'GET' && method !== 'PUT') return wrongMethod();
    }
  }

  #checkSelect(req: ContractRequest, type: string, check: BodyCheck, schema = this.v1): void {
    const select = new URLSearchParams(req.query).get('$select');
    if (!select) return;
    for (const name of select.split(',').map((s) => s.trim()).filter(Boolean)) {
      // A collection of a base type (directoryObject) may select properties of the types derived from it.
      const holders = Object.keys(schema.types).filter((t) => derivesFrom(schema, t, type));
      if (!holders.some((t) => findProperty(schema, t, name) || findNavigation(schema, t, name) || openFor(schema, t, name))) {
        check.fail('unknown-select', `$select: ${type} has no property '${name}'`);
      }
    }
  }

  // ---- beta: the documented paths and the types package ----

  #checkBeta(req: ContractRequest, label: string): Violation[] {
    const check = new BodyCheck(this.beta, label);
    const method = req.method.toUpperCase();
    const { segments, keys } = parsePath(req.path);
    const matching = this.betaPaths.filter((p) => matchTemplate(p.path, segments, keys));
    if (matching.length === 0) {
      check.fail('unknown-path', `no documented beta path ${req.path} (fixtures/graph-contract/beta-paths.json)`);
      return check.violations;
    }
    const entry = matching.find((p) => p.method === method);
    if (!entry) {
      check.fail('method', `${method} is not documented for ${matching[0]!.path} (documented: ${matching.map((p) => p.method).join(', ')})`);
      return check.violations;
    }
    const hasBody = req.body !== null && req.body !== undefined;
    const spec = entry.body;
    if (!spec) {
      if (hasBody && (typeof req.body !== 'object' || Object.keys(req.body as object).length > 0)) check.fail('unexpected-body', `${entry.path} takes no body (${entry.source})`);
    } else if (spec.type) {
      check.object(spec.type, req.body, '$');
    } else if (spec.parameters) {
      checkParameters(Object.fromEntries(Object.entries(spec.parameters).map(([k, t]) => [k, { type: t, nullable: true }])), req.body, check);
    } else if (spec.ref) {
      checkRef(req.body, check);
    } else if (spec.delta) {
      const body = req.body as Record<string, unknown> | null;
      if (typeof body !== 'object' || body === null || body['@context'] !== '#$delta' || !Array.isArray(body['value'])) {
        check.fail('value-type', `$: a delta body is {"@context": "#$delta", "value": [...]}`);
      } else {
        for (const key of Object.keys(body)) if (key !== '@context' && key !== 'value') check.fail('unknown-property', `$.${key}: not part of a delta body`);
        body['value'].forEach((item, i) => check.object(spec.delta!, item, `$.value[${i}]`, ['@contentId']));
      }
    }
    if (method === 'GET') {
      const typed = this.#betaEntityOf(entry);
      if (typed) this.#checkSelect(req, typed, check, this.beta);
    }
    if (method !== 'GET' && this.#v1Takes(req)) {
      check.fail('beta-where-v1', `v1.0 has this endpoint and takes this request as it is: use v1.0 (beta "is not supported in production applications")`);
    }
    return check.violations;
  }

  /** For $select on beta: the type the documented body names, when the entry has one. */
  #betaEntityOf(entry: BetaPath): string | undefined {
    const write = this.betaPaths.find((p) => p.path === entry.path && p.body?.type);
    return write?.body?.type;
  }

  #v1Takes(req: ContractRequest): boolean {
    return this.check({ ...req, version: 'v1.0' }).length === 0;
  }
}

function describe(target: Target): string {
  switch (target.kind) {
    case 'collection':
      return `a collection of ${target.type}`;
    case 'entity':
      return `an entity of ${target.type}`;
    case 'ref':
      return target.collection ? 'a collection of references ($ref)' : 'a reference ($ref)';
    case 'operation':
      return `the ${target.operation.kind} ${target.name}`;
    case 'value':
      return `a property of type ${target.type}`;
  }
}

function checkRef(body: unknown, check: BodyCheck): void {
  if (typeof body !== 'object' || body === null || typeof (body as Record<string, unknown>)['@odata.id'] !== 'string') {
    return check.fail('value-type', '$: a $ref body is {"@odata.id": "<URL of the object>"}');
  }
  for (const key of Object.keys(body)) if (key !== '@odata.id') check.fail('unknown-property', `$.${key}: a $ref body holds only @odata.id`);
}

function checkParameters(parameters: Record<string, PropertyModel>, body: unknown, check: BodyCheck): void {
  if (body === null || body === undefined) return;
  if (typeof body !== 'object' || Array.isArray(body)) return check.fail('value-type', '$: action parameters are a JSON object');
  for (const [key, v] of Object.entries(body)) {
    const parameter = parameters[key];
    if (!parameter) check.fail('unknown-property', `$.${key}: the action has no parameter '${key}' (parameters: ${Object.keys(parameters).join(', ') || 'none'})`);
    else check.value(parameter, v, `$.${key}`);
  }
}

/** A documented template (`/users/{user}/authentication/...`) against a request's segments; keys fill parameters only. */
function matchTemplate(template: string, segments: string[], keys: ReadonlySet<number>): boolean {
  const parts = template.replace(/^\//, '').split('/');
  if (parts.length !== segments.length) return false;
  return parts.every((part, i) => (/^\{\w+\}$/.test(part) ? segments[i] !== '' && (keys.has(i) || !segments[i]!.startsWith('$')) : !keys.has(i) && part.toLowerCase() === segments[i]!.toLowerCase()));
}

const CONTRACT = join(packageRoot(), 'fixtures', 'graph-contract');
let loaded: ContractChecker | undefined;

/** The checker over the committed v1.0 extract, the beta types package (its schema kept: beta-schema-cache.ts) and the documented beta paths (read once). */
export function loadContract(): ContractChecker {
  loaded ??= new ContractChecker(
    JSON.parse(readFileSync(join(CONTRACT, 'v1.0-schema.json'), 'utf8')) as SchemaModel,
    readBetaSchemaCached(),
    (JSON.parse(readFileSync(join(CONTRACT, 'beta-paths.json'), 'utf8')) as { paths: BetaPath[] }).paths,
  );
  return loaded;
}
