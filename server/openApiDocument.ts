import type { OpenAPIHono } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode } from './http/errors.js';

type Doc = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type Operation = { security?: unknown[]; responses?: Record<string, Record<string, unknown>> };

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'] as const;

/** What the middleware in front of every route can answer (server/app.ts): any route, public or not. */
const EVERY_ROUTE: ErrorCode[] = ['forbidden_host', 'rate_limited'];
/** And in front of every route that needs a caller: no or a bad credential, a missing scope. */
const GUARDED_ROUTE: ErrorCode[] = ['unauthorized', 'insufficient_scope'];

const HEADERS: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  unauthorized: { 'WWW-Authenticate': { description: 'the Bearer challenge', schema: { type: 'string' } } },
  rate_limited: {
    'Retry-After': { description: 'seconds until the window resets', schema: { type: 'integer' } },
    RateLimit: { description: 'what is left of each limit that applied', schema: { type: 'string' } },
    'RateLimit-Policy': { description: 'the limits that applied', schema: { type: 'string' } },
  },
};

/**
 * The document with the answers the middleware gives before a route runs, on each route they apply to: a
 * client generated from it knows every route can say 429, and every route that needs a key 401 and 403.
 */
export function withMiddlewareResponses(doc: Doc): Doc {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      op.responses ??= {};
      for (const code of isPublic ? EVERY_ROUTE : [...EVERY_ROUTE, ...GUARDED_ROUTE]) addResponse(op.responses, code);
    }
  }
  return doc;
}

function addResponse(responses: Record<string, Record<string, unknown>>, code: ErrorCode) {
  const status = String(ERROR_CODES[code]);
  const existing = responses[status];
  if (existing) {
    const description = String(existing.description ?? '');
    if (!description.split(', ').includes(code)) existing.description = description ? `${description}, ${code}` : code;
    if (HEADERS[code]) existing.headers = { ...HEADERS[code], ...(existing.headers as object | undefined) };
    return;
  }
  responses[status] = {
    description: code,
    ...(HEADERS[code] ? { headers: HEADERS[code] } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}
