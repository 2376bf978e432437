import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { type ApiKeyDoc, SCOPES, type UserDoc } from '../../storage/accounts.js';
import type { AppDeps, AppEnv } from '../context.js';
import { ApiError, errorResponses, WRITE_ERROR_CODES } from '../http/errors.js';
import { jsonBody, jsonResponse } from '../http/openapi.js';
import { validationHook } from '../http/validation.js';

// Users and their API keys, for admins (the admin scope: server/http/middleware/auth.ts). A user's own keys: routes/me.ts.

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.enum(['admin', 'user']),
    disabled: z.boolean(),
    created_at: z.string(),
  })
  .openapi('User');

export const ApiKeyInfo = z
  .object({
    id: z.string(),
    user_id: z.string(),
    name: z.string().nullable(),
    prefix: z.string().openapi({ description: 'the key’s first characters, to tell keys apart' }),
    scopes: z.array(z.enum(SCOPES)),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

const CreatedApiKey = ApiKeyInfo.extend({
  key: z.string().openapi({ description: 'the key itself: shown in this answer only, stored nowhere' }),
}).openapi('CreatedApiKey');

const CreateUserBody = z
  .object({ email: z.email().max(254), role: z.enum(['admin', 'user']).default('user') })
  .strict();

export const CreateKeyBody = z
  .object({
    scopes: z.array(z.enum(SCOPES)).min(1).max(3),
    expires_at: z.iso.datetime({ offset: true }).optional(),
    name: z.string().min(1).max(100).optional(),
  })
  .strict();

const UserPatch = z.object({ disabled: z.boolean() }).strict();

const UserParams = z.object({
  userId: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'userId', in: 'path' } }),
});
export const KeyParams = z.object({
  keyId: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'keyId', in: 'path' } }),
});

export const userView = (u: UserDoc) => ({
  id: u._id,
  email: u.email,
  role: u.role,
  disabled: u.disabled === true,
  created_at: u.createdAt.toISOString(),
});

export const keyView = (k: ApiKeyDoc) => ({
  id: k.keyId,
  user_id: k.userId,
  name: k.name ?? null,
  prefix: k.prefix,
  scopes: k.scopes,
  created_at: k.createdAt.toISOString(),
  expires_at: k.expiresAt?.toISOString() ?? null,
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

const createUser = createRoute({
  method: 'post',
  path: '/users',
  summary: 'Create a user (admin)',
  request: { body: jsonBody(CreateUserBody) },
  responses: {
    201: jsonResponse(User, 'the user'),
    ...errorResponses('bad_request', 'email_taken', ...WRITE_ERROR_CODES),
  },
});

const listUsers = createRoute({
  method: 'get',
  path: '/users',
  summary: 'Every user (admin)',
  responses: { 200: jsonResponse(z.object({ users: z.array(User) }), 'users') },
});

const getUser = createRoute({
  method: 'get',
  path: '/users/{userId}',
  summary: 'A user and its API keys (admin)',
  request: { params: UserParams },
  responses: {
    200: jsonResponse(User.extend({ api_keys: z.array(ApiKeyInfo) }), 'the user'),
    ...errorResponses('not_found'),
  },
});

const patchUser = createRoute({
  method: 'patch',
  path: '/users/{userId}',
  summary: 'Disable or enable a user (admin): a disabled user’s keys stop working at once',
  request: { params: UserParams, body: jsonBody(UserPatch) },
  responses: {
    200: jsonResponse(User, 'the user'),
    ...errorResponses('not_found', 'bad_request', ...WRITE_ERROR_CODES),
  },
});

const deleteUser = createRoute({
  method: 'delete',
  path: '/users/{userId}',
  summary: 'Delete a user and its API keys (admin); its jobs stay, visible to admins',
  request: { params: UserParams },
  responses: { 204: { description: 'deleted' }, ...errorResponses('not_found', 'validation_error') },
});

const createKey = createRoute({
  method: 'post',
  path: '/users/{userId}/api-keys',
  summary: 'Create an API key for a user (admin): the key is in this answer only',
  request: { params: UserParams, body: jsonBody(CreateKeyBody) },
  responses: {
    201: jsonResponse(CreatedApiKey, 'the key, shown this once'),
    ...errorResponses('not_found', 'bad_request', 'validation_error', ...WRITE_ERROR_CODES),
  },
});

const listKeys = createRoute({
  method: 'get',
  path: '/users/{userId}/api-keys',
  summary: 'A user’s API keys (admin), never the keys themselves',
  request: { params: UserParams },
  responses: { 200: jsonResponse(z.object({ api_keys: z.array(ApiKeyInfo) }), 'keys'), ...errorResponses('not_found') },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/users/{userId}/api-keys/{keyId}',
  summary: 'Revoke a user’s API key (admin)',
  request: { params: UserParams.merge(KeyParams) },
  responses: { 204: { description: 'revoked' }, ...errorResponses('not_found') },
});

export const SessionInfo = z
  .object({
    id: z.string().openapi({ description: 'names the session for revoking; of no use for signing in' }),
    via: z.enum(['email', 'google', 'github']).nullable(),
    created_at: z.string(),
    expires_at: z.string(),
  })
  .openapi('Session');

const SessionParams = z.object({
  sessionId: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'sessionId', in: 'path' } }),
});

const listSessions = createRoute({
  method: 'get',
  path: '/users/{userId}/sessions',
  summary: 'A user’s signed-in sessions (admin)',
  request: { params: UserParams },
  responses: {
    200: jsonResponse(z.object({ sessions: z.array(SessionInfo) }), 'sessions'),
    ...errorResponses('not_found'),
  },
});

const revokeSession = createRoute({
  method: 'delete',
  path: '/users/{userId}/sessions/{sessionId}',
  summary: 'End one of a user’s sessions (admin)',
  request: { params: UserParams.merge(SessionParams) },
  responses: { 204: { description: 'ended' }, ...errorResponses('not_found') },
});

const revokeSessions = createRoute({
  method: 'delete',
  path: '/users/{userId}/sessions',
  summary: 'End every session of a user (admin): signs the user out everywhere',
  request: { params: UserParams },
  responses: { 204: { description: 'ended' }, ...errorResponses('not_found') },
});

export function adminRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const accounts = deps.accounts;
  const userOr404 = async (userId: string) => {
    const user = await accounts.store.user(userId);
    if (!user) throw new ApiError('not_found', `no user ${userId}`);
    return user;
  };

  app.openapi(createUser, async (c) => {
    const { email, role } = c.req.valid('json');
    return c.json(userView(await accounts.createUser(email, role)), 201);
  });

  app.openapi(listUsers, async (c) => c.json({ users: (await accounts.store.users()).map(userView) }, 200));

  app.openapi(getUser, async (c) => {
    const user = await userOr404(c.req.valid('param').userId);
    return c.json({ ...userView(user), api_keys: (await accounts.store.keys(user._id)).map(keyView) }, 200);
  });

  app.openapi(patchUser, async (c) => {
    const { userId } = c.req.valid('param');
    const { disabled } = c.req.valid('json');
    if (disabled && userId === c.get('owner')) {
      throw new ApiError('validation_error', 'an admin cannot disable itself');
    }
    if (!(await accounts.setDisabled(userId, disabled))) throw new ApiError('not_found', `no user ${userId}`);
    return c.json(userView(await userOr404(userId)), 200);
  });

  app.openapi(deleteUser, async (c) => {
    const { userId } = c.req.valid('param');
    if (userId === c.get('owner')) throw new ApiError('validation_error', 'an admin cannot delete itself');
    if (!(await accounts.deleteUser(userId))) throw new ApiError('not_found', `no user ${userId}`);
    return c.body(null, 204);
  });

  app.openapi(createKey, async (c) => {
    const { userId } = c.req.valid('param');
    const b = c.req.valid('json');
    const { key, doc } = await accounts.createKey(userId, {
      scopes: b.scopes,
      ...(b.expires_at ? { expiresAt: new Date(b.expires_at) } : {}),
      ...(b.name ? { name: b.name } : {}),
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ ...keyView(doc), key }, 201);
  });

  app.openapi(listKeys, async (c) => {
    const user = await userOr404(c.req.valid('param').userId);
    return c.json({ api_keys: (await accounts.store.keys(user._id)).map(keyView) }, 200);
  });

  app.openapi(revokeKey, async (c) => {
    const { userId, keyId } = c.req.valid('param');
    if (!(await accounts.revokeKey(userId, keyId)))
      throw new ApiError('not_found', `no key ${keyId} of user ${userId}`);
    return c.body(null, 204);
  });

  app.openapi(listSessions, async (c) => {
    const user = await userOr404(c.req.valid('param').userId);
    const sessions = await deps.signIn.sessionsOf(user._id);
    return c.json(
      {
        sessions: sessions.map(({ id, session }) => ({
          id,
          via: session.via ?? null,
          created_at: session.createdAt.toISOString(),
          expires_at: session.expiresAt.toISOString(),
        })),
      },
      200,
    );
  });

  app.openapi(revokeSession, async (c) => {
    const { userId, sessionId } = c.req.valid('param');
    if (!(await deps.signIn.revokeSession(userId, sessionId))) {
      throw new ApiError('not_found', `no session ${sessionId} of user ${userId}`);
    }
    return c.body(null, 204);
  });

  app.openapi(revokeSessions, async (c) => {
    const user = await userOr404(c.req.valid('param').userId);
    await deps.signIn.closeAll(user._id);
    return c.body(null, 204);
  });

  return app;
}
