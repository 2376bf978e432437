import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { ApiKeyInfo, KeyParams, keyView } from './admin.js';

// The caller itself: who it acts as, its own API keys (list and revoke).

const whoami = createRoute({
  method: 'get',
  path: '/',
  summary: 'Who this request acts as, with which scopes',
  responses: {
    200: {
      description: 'the caller',
      content: {
        'application/json': {
          schema: z.object({
            user_id: z.string(),
            email: z.string().nullable(),
            role: z.enum(['admin', 'user', 'service']),
            via: z.enum(['api_key', 'session', 'trusted_network', 'auth_off']),
            key_id: z.string().nullable(),
            scopes: z.array(z.string()),
          }),
        },
      },
    },
  },
});

const myKeys = createRoute({
  method: 'get',
  path: '/api-keys',
  summary: 'The caller’s API keys, never the keys themselves',
  responses: {
    200: {
      description: 'keys',
      content: { 'application/json': { schema: z.object({ api_keys: z.array(ApiKeyInfo) }) } },
    },
  },
});

const revokeMine = createRoute({
  method: 'delete',
  path: '/api-keys/{keyId}',
  summary: 'Revoke one of the caller’s API keys',
  request: { params: KeyParams },
  responses: { 204: { description: 'revoked' }, ...errorResponses('not_found') },
});

export function meRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(whoami, async (c) => {
    const p = c.get('principal');
    const user = p.via === 'trusted_network' ? null : await deps.accounts.store.user(p.userId);
    return c.json(
      {
        user_id: p.userId,
        email: user?.email ?? null,
        role: user?.role ?? ('service' as const),
        via: p.via,
        key_id: p.keyId ?? null,
        scopes: [...p.scopes],
      },
      200,
    );
  });

  app.openapi(myKeys, async (c) =>
    c.json({ api_keys: (await deps.accounts.store.keys(c.get('owner'))).map(keyView) }, 200),
  );

  app.openapi(revokeMine, async (c) => {
    const { keyId } = c.req.valid('param');
    if (!(await deps.accounts.revokeKey(c.get('owner'), keyId))) throw new ApiError('not_found', `no key ${keyId}`);
    return c.body(null, 204);
  });

  return app;
}
