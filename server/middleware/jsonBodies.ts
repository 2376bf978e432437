import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../errors.js';

/** `application/json` and its structured-syntax kin (`application/problem+json`), with parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json\s*(?:;.*)?$/i;
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Only JSON is read as JSON. A body of any other type (`text/plain`, a form, none at all) is a 415:
 * those are what a web page may send cross-site without asking, so accepting them would let any page
 * start or stop jobs. An empty body is `{}`, whatever its declared type.
 */
export function jsonBodies(): MiddlewareHandler {
  return async (c, next) => {
    if (BODYLESS_METHODS.has(c.req.method)) return next();
    const type = c.req.header('content-type');
    const text = await c.req.text();
    if (text.trim() === '') {
      // The route's validator reads JSON only when the type says JSON; then an empty body reads as `{}`.
      c.req.json = async <T>() => ({}) as T;
      return next();
    }
    if (type === undefined || !JSON_MEDIA_TYPE.test(type)) {
      throw new ApiError(
        'unsupported_media_type',
        type === undefined
          ? 'a request body needs Content-Type: application/json'
          : `send JSON with Content-Type: application/json, not '${type}'`,
      );
    }
    try {
      JSON.parse(text);
    } catch (err) {
      throw new ApiError('bad_request', `body is not valid JSON: ${(err as Error).message}`);
    }
    return next();
  };
}
