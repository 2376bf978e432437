import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors.js';

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'body';
      if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new ApiError('bad_request', `invalid ${what}: ${describe(r.error.issues)}`, {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
    });
  }
  return r.data;
}

/** Reads a JSON body: an empty body is `{}`, anything that is not a JSON object is a 400 that says so. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  const type = c.req.header('content-type') ?? '';
  if (type && !type.includes('json')) {
    throw new ApiError('unsupported_media_type', `send JSON with Content-Type: application/json, not '${type}'`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError('bad_request', `body is not valid JSON: ${(err as Error).message}`);
  }
}
