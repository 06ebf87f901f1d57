import { errors, GraphError } from '../graph-error.js';
import { compileFilter, parseExpand, parseSelect, type FilterFields } from '../odata-query.js';
import { isPlainObject } from '../policy-rules.js';
import { checkGroupAttach } from '../rollout-rules.js';
import type { HandlerContext, HandlerResult, Router } from '../router.js';
import type { RolloutPolicyRecord } from '../state.js';
import { STAGED_FEATURES } from '../tenant-schema.js';
import { referencedId } from './directory.js';
import { collection, entity, lagMs, NO_CONTENT, objectBody, rejectQueryOptions } from './common.js';

const POLICIES = 'policies/featureRolloutPolicies';
const TYPE = 'featureRolloutPolicy';
const PROPERTIES = ['id', 'displayName', 'description', 'feature', 'isEnabled', 'isAppliedToOrganization'];

/** Staged rollout policies (v1.0 and beta): who is switched to cloud authentication features, by group. */
export function registerFeatureRolloutRoutes(router: Router): void {
  router.add({ pattern: POLICIES, handlers: { GET: listPolicies, POST: createPolicy } });
  router.add({ pattern: `${POLICIES}/{policy}`, handlers: { GET: getPolicy, PATCH: updatePolicy, DELETE: deletePolicy } });
  router.add({ pattern: `${POLICIES}/{policy}/appliesTo`, handlers: { GET: listAppliesTo } });
  router.add({ pattern: `${POLICIES}/{policy}/appliesTo/$ref`, handlers: { POST: addAppliesTo } });
  router.add({ pattern: `${POLICIES}/{policy}/appliesTo/{object}/$ref`, handlers: { DELETE: removeAppliesTo } });
}

const FILTER: FilterFields<RolloutPolicyRecord> = {
  id: (p) => p.id,
  displayname: (p) => p.displayName,
  feature: (p) => p.feature,
  isenabled: (p) => p.isEnabled,
};

function appliesToJson(ctx: HandlerContext, policy: RolloutPolicyRecord): Record<string, unknown>[] {
  return policy.appliesTo.map((id) => {
    const group = ctx.state.findGroup(id);
    return { '@odata.type': '#microsoft.graph.group', id, displayName: group?.props['displayName'] ?? null };
  });
}

/**
 * Graph's evolvable enums: a member after `unknownFutureValue` (certificateBasedAuthentication,
 * multiFactorAuthentication) is answered as `unknownFutureValue` unless the request says
 * `Prefer: include-unknown-enum-members`.
 */
function featureAsAnswered(ctx: HandlerContext, feature: string): string {
  const sentinel = STAGED_FEATURES.indexOf('unknownFutureValue');
  const late = STAGED_FEATURES.indexOf(feature as (typeof STAGED_FEATURES)[number]) > sentinel;
  const prefer = (ctx.req.headers['prefer'] ?? '').split(',').map((p) => p.trim().toLowerCase());
  return late && !prefer.includes('include-unknown-enum-members') ? 'unknownFutureValue' : feature;
}

function policyJson(ctx: HandlerContext, policy: RolloutPolicyRecord): Record<string, unknown> {
  const select = parseSelect(ctx.req.query, PROPERTIES, TYPE);
  const expand = parseExpand(ctx.req.query, ['appliesTo'], TYPE);
  const full: Record<string, unknown> = {
    id: policy.id,
    displayName: policy.displayName,
    description: policy.description,
    feature: featureAsAnswered(ctx, policy.feature),
    isEnabled: policy.isEnabled,
    isAppliedToOrganization: policy.isAppliedToOrganization,
  };
  const out: Record<string, unknown> = select ? Object.fromEntries(['id', ...select].map((k) => [k, full[k]])) : full;
  if (expand.includes('appliesTo')) out['appliesTo'] = appliesToJson(ctx, policy);
  return out;
}

function requirePolicy(ctx: HandlerContext): RolloutPolicyRecord {
  const key = ctx.params['policy']!.toLowerCase();
  const policy = ctx.state.visibleRolloutPolicies().find((p) => p.id === key);
  if (!policy) throw errors.resourceNotFound(ctx.params['policy']!);
  return policy;
}

function listPolicies(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select', '$filter', '$expand']);
  const filterText = ctx.req.query.get('$filter');
  const filter = filterText !== null ? compileFilter(filterText, FILTER, 'FeatureRolloutPolicy') : undefined;
  const visible = ctx.state.visibleRolloutPolicies();
  const policies = filter ? visible.filter(filter) : visible;
  return collection(ctx, POLICIES, policies.map((p) => policyJson(ctx, p)));
}

function getPolicy(ctx: HandlerContext): HandlerResult {
  rejectQueryOptions(ctx, ['$select', '$expand']);
  return entity(ctx, `${POLICIES}/$entity`, policyJson(ctx, requirePolicy(ctx)));
}

function checkFeature(value: unknown): string {
  if (typeof value !== 'string' || !(STAGED_FEATURES as readonly string[]).includes(value)) {
    throw errors.badRequest(`Invalid value for property 'feature': must be one of ${STAGED_FEATURES.join(', ')}.`);
  }
  return value;
}

function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw errors.badRequest(`Invalid value for property '${name}': expected a boolean.`);
  return value;
}

function optionalText(body: Record<string, unknown>, name: string): string | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw errors.badRequest(`Invalid value for property '${name}': expected a string.`);
  return value;
}

/** Groups are attached with appliesTo/$ref, one by one, so that each is checked against staged rollout's rules. */
function refuseAppliesToInBody(body: Record<string, unknown>): void {
  if ('appliesTo' in body || 'appliesTo@odata.bind' in body) {
    throw errors.badRequest("Add groups with POST .../featureRolloutPolicies/{id}/appliesTo/$ref, not in the policy's body.");
  }
}

function createPolicy(ctx: HandlerContext): HandlerResult {
  const body = objectBody(ctx, [...PROPERTIES, 'appliesTo', 'appliesTo@odata.bind'], TYPE);
  refuseAppliesToInBody(body);
  const displayName = optionalText(body, 'displayName');
  if (!displayName) throw errors.badRequest('displayName is required.');
  const feature = checkFeature(body['feature']);
  const isEnabled = optionalBoolean(body, 'isEnabled');
  if (isEnabled === undefined) throw errors.badRequest('isEnabled is required.');
  if (ctx.state.rolloutPolicies.some((p) => p.feature === feature)) {
    throw new GraphError(409, 'conflict', `A feature rollout policy for '${feature}' already exists; a feature has one policy.`);
  }
  const policy: RolloutPolicyRecord = {
    id: ctx.state.ids.uuid(),
    displayName,
    description: optionalText(body, 'description') ?? null,
    feature,
    isEnabled,
    isAppliedToOrganization: optionalBoolean(body, 'isAppliedToOrganization') ?? false,
    appliesTo: [],
  };
  ctx.state.rolloutPolicies.push(policy);
  const lag = lagMs(ctx);
  if (lag > 0) ctx.state.hideUntil(policy, performance.now() + lag);
  return entity(ctx, `${POLICIES}/$entity`, policyJson(ctx, policy), 201);
}

function updatePolicy(ctx: HandlerContext): HandlerResult {
  const policy = requirePolicy(ctx);
  const body = objectBody(ctx, [...PROPERTIES, 'appliesTo', 'appliesTo@odata.bind'], TYPE);
  refuseAppliesToInBody(body);
  if ('feature' in body && body['feature'] !== policy.feature) throw errors.badRequest("The 'feature' of a feature rollout policy cannot be changed.");
  const displayName = optionalText(body, 'displayName');
  if (displayName === null || displayName === '') throw errors.badRequest('displayName cannot be empty.');
  const description = optionalText(body, 'description');
  const isEnabled = optionalBoolean(body, 'isEnabled');
  const isAppliedToOrganization = optionalBoolean(body, 'isAppliedToOrganization');
  if (displayName !== undefined) policy.displayName = displayName;
  if (description !== undefined) policy.description = description;
  if (isEnabled !== undefined) policy.isEnabled = isEnabled;
  if (isAppliedToOrganization !== undefined) policy.isAppliedToOrganization = isAppliedToOrganization;
  return NO_CONTENT;
}

function deletePolicy(ctx: HandlerContext): HandlerResult {
  const policy = requirePolicy(ctx);
  ctx.state.rolloutPolicies.splice(ctx.state.rolloutPolicies.indexOf(policy), 1);
  return NO_CONTENT;
}

function listAppliesTo(ctx: HandlerContext): HandlerResult {
  return collection(ctx, 'directoryObjects', appliesToJson(ctx, requirePolicy(ctx)));
}

function addAppliesTo(ctx: HandlerContext): HandlerResult {
  const policy = requirePolicy(ctx);
  const id = referencedId(ctx);
  if (isPlainObject(ctx.req.body)) {
    for (const key of Object.keys(ctx.req.body)) if (key !== '@odata.id') throw errors.unknownProperty(key, 'directoryObject');
  }
  const target = ctx.state.directoryObject(id);
  if (!target) throw errors.resourceNotFound(id);
  if (target.kind !== 'group') throw new GraphError(400, 'Request_BadRequest', 'A feature rollout policy applies to groups only.');
  checkGroupAttach(ctx.state, policy, target.group);
  policy.appliesTo.push(target.group.id);
  return NO_CONTENT;
}

function removeAppliesTo(ctx: HandlerContext): HandlerResult {
  const policy = requirePolicy(ctx);
  const i = policy.appliesTo.indexOf(ctx.params['object']!.toLowerCase());
  if (i < 0) throw errors.resourceNotFound(ctx.params['object']!);
  policy.appliesTo.splice(i, 1);
  return NO_CONTENT;
}
