/**
 * Graph's error contract: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
 * Handlers throw GraphError; the pipeline turns it into that body with the request's ids.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export interface GraphErrorBody {
  error: { code: string; message: string; innerError: { date: string; 'request-id': string; 'client-request-id': string } };
}

export function errorBody(code: string, message: string, requestId: string, clientRequestId: string): GraphErrorBody {
  return {
    error: {
      code,
      message,
      // Graph's innerError date has no fraction and no zone designator.
      innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

/** Errors the emulator answers with, named by what happened. Codes and messages are Graph's where Graph documents them. */
export const errors = {
  badRequest: (message: string) => new GraphError(400, 'BadRequest', message),
  /** An unknown URL segment (Graph's OData router answers 400, not 404). */
  segmentNotFound: (segment: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`),
  invalidVersion: (version: string) => new GraphError(400, 'BadRequest', `Invalid version: ${version}`),
  methodNotAllowed: (allowed: string[]) =>
    new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.', { Allow: allowed.join(', ') }),
  /** A directory object (user, group, device) that does not exist. */
  resourceNotFound: (id: string) =>
    new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`),
  /** An authentication method (by id) the user does not have. */
  itemNotFound: (what: string, id: string) => new GraphError(404, 'itemNotFound', `The ${what} '${id}' was not found for this user.`),
  /** Graph takes request bodies of up to 4 MB. */
  tooLarge: () => new GraphError(413, 'RequestEntityTooLarge', 'The request body is larger than the 4 MB Microsoft Graph accepts.'),
  invalidJson: () =>
    new GraphError(
      400,
      'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    ),
  unknownProperty: (property: string, type: string) =>
    new GraphError(
      400,
      'BadRequest',
      `The property '${property}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    ),
  /** A rule of the authentication methods service (phone, email, OATH, preferences). */
  ruleViolation: (message: string) => new GraphError(400, 'badRequest', message),
  conflict: (message: string) => new GraphError(409, 'conflict', message),
  unsupportedQuery: (message: string) => new GraphError(400, 'Request_UnsupportedQuery', message),
  expiredPageToken: () =>
    new GraphError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.'),
  noToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', { 'WWW-Authenticate': 'Bearer realm=""' }),
  badToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.', {
      'WWW-Authenticate': 'Bearer realm="", error="invalid_token"',
    }),
};
