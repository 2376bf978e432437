import type { Hook } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors.js';

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path.length ? i.path.join('.') : 'body';
      if (i.code === 'unrecognized_keys')
        return `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}${i.path.length ? ` in ${where}` : ''}`;
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

const TARGETS: Record<string, string> = {
  json: 'request body',
  query: 'query',
  param: 'path',
  header: 'header',
};

/** A request the route's schema refuses is a 400 that says which field and why. */
export const validationHook = (result: Parameters<Hook<unknown, Env, string, void>>[0]): void => {
  if (result.success) return;
  const issues = result.error.issues;
  throw new ApiError('bad_request', `invalid ${TARGETS[result.target] ?? result.target}: ${describe(issues)}`, {
    issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
  });
};
