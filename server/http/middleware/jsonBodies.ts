import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

/** `application/json` and its structured-syntax kin (`application/problem+json`), with parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json\s*(?:;.*)?$/i;
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Only JSON is read as JSON. A request of any other type (`text/plain`, a form) or a body without a
 * type is a 415: those are what a web page may send cross-site without asking, so accepting them would
 * let any page start or stop jobs. An empty body without a type, or typed JSON, is `{}`.
 */
export function jsonBodies(): MiddlewareHandler {
  return async (c, next) => {
    if (BODYLESS_METHODS.has(c.req.method)) return next();
    const type = c.req.header('content-type');
    const text = await c.req.text();
    if (type !== undefined && !JSON_MEDIA_TYPE.test(type)) {
      // Refused even when empty: a cross-site form posts this way to routes that take no body.
      throw new ApiError('unsupported_media_type', `send JSON with Content-Type: application/json, not '${type}'`);
    }
    if (type !== undefined) asPlainJson(c);
    if (text.trim() === '') {
      // The route's validator reads JSON only when the type says JSON; then an empty body reads as `{}`.
      c.req.json = async <T>() => ({}) as T;
      return next();
    }
    if (type === undefined) {
      throw new ApiError('unsupported_media_type', 'a request body needs Content-Type: application/json');
    }
    try {
      JSON.parse(text);
    } catch (err) {
      throw new ApiError('bad_request', `body is not valid JSON: ${(err as Error).message}`);
    }
    return next();
  };
}

/**
 * Accepted as JSON here, so JSON to the routes too: their validators know fewer +json spellings (none
 * with a digit, as in application/vnd.a2+json) and would refuse what this middleware accepted. The body
 * is already read (and kept by the request), so the copy carries none.
 */
function asPlainJson(c: Context) {
  const type = c.req.header('content-type');
  if (type === undefined || type.split(';')[0]!.trim().toLowerCase() === 'application/json') return;
  const headers = new Headers(c.req.raw.headers);
  headers.set('content-type', 'application/json');
  c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers });
}
