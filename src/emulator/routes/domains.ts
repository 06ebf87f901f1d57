import { errors } from '../graph-error.js';
import { parseSelect } from '../odata-query.js';
import type { HandlerContext, HandlerResult, Router } from '../router.js';
import type { DomainRecord, EmulatorState } from '../state.js';
import { authenticationTypeOf, rootDomainOf } from '../domain-roots.js';
import { AUTHENTICATION_PROTOCOLS, FEDERATED_IDP_MFA_BEHAVIORS, PROMPT_LOGIN_BEHAVIORS } from '../tenant-schema.js';
import { collection, entity, NO_CONTENT, objectBody, rejectQueryOptions } from './common.js';

const FEDERATION_TYPE = 'internalDomainFederation';

/** The tenant's domains and, for federated ones, their federation configuration (federatedIdpMfaBehavior). */
export function registerDomainRoutes(router: Router): void {
  router.add({ pattern: 'domains', handlers: { GET: listDomains } });
  router.add({ pattern: 'domains/{domain}', handlers: { GET: getDomain } });
  router.add({ pattern: 'domains/{domain}/rootDomain', handlers: { GET: getRootDomain } });
  router.add({ pattern: 'domains/{domain}/federationConfiguration', handlers: { GET: listFederation, POST: createFederation } });
  router.add({ pattern: 'domains/{domain}/federationConfiguration/{federation}', handlers: { GET: getFederation, PATCH: updateFederation } });
}

const DOMAIN_PROPERTIES = [
  'id',
  'authenticationType',
  'availabilityStatus',
  'isAdminManaged',
  'isDefault',
  'isInitial',
  'isRoot',
  'isVerified',
  'passwordNotificationWindowInDays',
  'passwordValidityPeriodInDays',
  'supportedServices',
  'state',
];

function domainJson(state: EmulatorState, d: DomainRecord, select: string[] | undefined): Record<string, unknown> {
  const full: Record<string, unknown> = {
    id: d.id,
    // A subdomain that is not a root reads its root's (domain-roots.ts).
    authenticationType: authenticationTypeOf(state.domains, d),
    availabilityStatus: null,
    isAdminManaged: true,
    isDefault: d.isDefault,
    isInitial: d.isInitial,
    isRoot: d.isRoot,
    isVerified: d.isVerified,
    passwordNotificationWindowInDays: null,
    passwordValidityPeriodInDays: null,
    supportedServices: [...d.supportedServices],
    state: null,
  };
  return select ? Object.fromEntries(['id', ...select].map((k) => [k, full[k]])) : full;
}

const FEDERATION_PROPERTIES = [
  'displayName',
  'issuerUri',
  'metadataExchangeUri',
  'passiveSignInUri',
  'preferredAuthenticationProtocol',
  'signingCertificate',
  'activeSignInUri',
  'federatedIdpMfaBehavior',
  'isSignedAuthenticationRequestRequired',
  'nextSigningCertificate',
  'passwordResetUri',
  'promptLoginBehavior',
  'signOutUri',
];

function federationJson(federation: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.type': `#microsoft.graph.${FEDERATION_TYPE}`, id: federation['id'] };
  for (const name of FEDERATION_PROPERTIES) out[name] = federation[name] ?? null;
  out['signingCertificateUpdateStatus'] = null;
  return out;
}

function requireDomain(ctx: HandlerContext): DomainRecord {
  const key = ctx.params['domain']!;
  const domain = ctx.state.domains.find((d) => d.id === key.toLowerCase());
  if (!domain) throw errors.resourceNotFound(key);
  return domain;
}

function listDomains(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select']);
  const select = parseSelect(ctx.req.query, DOMAIN_PROPERTIES, 'domain');
  return collection(ctx, 'domains', ctx.state.domains.map((d) => domainJson(ctx.state, d, select)));
}

function getDomain(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select']);
  const select = parseSelect(ctx.req.query, DOMAIN_PROPERTIES, 'domain');
  return entity(ctx, 'domains/$entity', domainJson(ctx.state, requireDomain(ctx), select));
}

/** A subdomain's root domain (the one it takes its authentication from); a root has none: 404, as an empty navigation answers. */
function getRootDomain(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select']);
  const select = parseSelect(ctx.req.query, DOMAIN_PROPERTIES, 'domain');
  const domain = requireDomain(ctx);
  const root = rootDomainOf(ctx.state.domains, domain);
  if (!root) throw errors.resourceNotFound(`rootDomain of ${domain.id}`);
  return entity(ctx, 'domains/$entity', domainJson(ctx.state, root, select));
}

function listFederation(ctx: HandlerContext): HandlerResult {
  const { federation, id } = requireDomain(ctx);
  return collection(ctx, `domains('${id}')/federationConfiguration`, federation ? [federationJson(federation)] : []);
}

/**
 * A subdomain that is not a root has no federation configuration of its own (it takes its root's):
 * creating or changing one there is refused, 400, until it is promoted. Graph's exact answer is not
 * documented; refusing is the conservative one (a client must change the root's).
 */
function refuseSubdomain(state: EmulatorState, domain: DomainRecord): void {
  if (!domain.isRoot) {
    const root = rootDomainOf(state.domains, domain);
    throw errors.badRequest(`The domain '${domain.id}' is a subdomain (isRoot false) of '${root?.id ?? 'its root domain'}': it takes the root domain's authentication and federation settings; promote it first to give it its own.`);
  }
}

/** POST of a federation configuration: refused on a subdomain; on a root, not modelled (the tenant file gives a domain its federation). */
function createFederation(ctx: HandlerContext): HandlerResult {
  refuseSubdomain(ctx.state, requireDomain(ctx));
  throw errors.badRequest('Creating a federation configuration is not modelled by the emulator: give the domain its federation in the tenant file.');
}

function requireFederation(ctx: HandlerContext): Record<string, unknown> {
  const domain = requireDomain(ctx);
  const key = ctx.params['federation']!;
  if (!domain.federation || String(domain.federation['id']) !== key.toLowerCase()) throw errors.resourceNotFound(key);
  return domain.federation;
}

function getFederation(ctx: HandlerContext): HandlerResult {
  return entity(ctx, `domains('${requireDomain(ctx).id}')/federationConfiguration/$entity`, federationJson(requireFederation(ctx)));
}

const ENUMS: Record<string, readonly string[]> = {
  federatedIdpMfaBehavior: FEDERATED_IDP_MFA_BEHAVIORS,
  promptLoginBehavior: PROMPT_LOGIN_BEHAVIORS,
  preferredAuthenticationProtocol: AUTHENTICATION_PROTOCOLS,
};

/** PATCH of the federation (federatedIdpMfaBehavior above all): the properties the type has, enums checked. */
function updateFederation(ctx: HandlerContext): HandlerResult {
  refuseSubdomain(ctx.state, requireDomain(ctx));
  const federation = requireFederation(ctx);
  const body = objectBody(ctx, FEDERATION_PROPERTIES, FEDERATION_TYPE);
  const type = body['@odata.type'];
  if (type !== undefined && String(type).replace(/^#?microsoft\.graph\./, '') !== FEDERATION_TYPE) {
    throw errors.badRequest(`The '@odata.type' '${String(type)}' does not match '#microsoft.graph.${FEDERATION_TYPE}'.`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith('@')) continue;
    const allowed = ENUMS[name];
    if (allowed && !(value !== null && allowed.includes(value as string))) {
      throw errors.badRequest(`Invalid value for property '${name}': must be one of ${allowed.join(', ')}.`);
    }
    if (name === 'isSignedAuthenticationRequestRequired' && value !== null && typeof value !== 'boolean') {
      throw errors.badRequest(`Invalid value for property '${name}': expected a boolean.`);
    }
    if (!allowed && name !== 'isSignedAuthenticationRequestRequired' && value !== null && typeof value !== 'string') {
      throw errors.badRequest(`Invalid value for property '${name}': expected a string.`);
    }
    if ((name === 'displayName' || name === 'issuerUri' || name === 'passiveSignInUri') && !value) throw errors.badRequest(`${name} cannot be empty.`);
    values[name] = value;
  }
  Object.assign(federation, values);
  return NO_CONTENT;
}
