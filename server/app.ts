import { OpenAPIHono } from '@hono/zod-openapi';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { MongoOperationTimeoutError } from 'mongodb';
import { isUnreachable } from '../storage/unreachable.js';
import type { AppDeps, AppEnv } from './context.js';
import { DatabaseDeadlineError } from './deadline.js';
import { ApiError, asApiError, ErrorBody, errorResponse } from './errors.js';
import { jsonBodies } from './middleware/jsonBodies.js';
import { sameOriginWrites } from './middleware/sameOrigin.js';
import { jobRoutes } from './routes/jobs.js';
import { resultRoutes } from './routes/results.js';
import { runRoutes } from './routes/run.js';
import { scheduleRoutes } from './routes/schedules.js';
import { simulateRoutes } from './routes/simulate.js';
import { systemRoutes } from './routes/system.js';
import { webhookRoutes } from './routes/webhooks.js';
import { validationHook } from './validation.js';

/** Until accounts exist every job belongs to `local`; the owner is stored so isolation needs no migration. */
export const LOCAL_OWNER = 'local';

const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'tradeflow',
    version: '0.1.0',
    description:
      'AI trading-analysis and trading-simulation jobs as Temporal durable workflows. Errors are `{ error, message, ... }` with the codes of the `Error` schema.',
  },
};

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(requestId());
  app.use(
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new ApiError('payload_too_large', 'request body is over 1 MiB');
      },
    }),
  );
  app.use(sameOriginWrites(deps.allowedOrigins));
  app.use(jsonBodies());
  app.use(async (c, next) => {
    c.set('owner', LOCAL_OWNER);
    await next();
  });

  app.route('/simulate', simulateRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/jobs', jobRoutes(deps));
  app.route('/jobs', webhookRoutes(deps));
  app.route('/results', resultRoutes(deps));
  app.route('/schedules', scheduleRoutes(deps));
  app.route(
    '/',
    systemRoutes(deps, () => endpoints(app)),
  );
  app.openAPIRegistry.register('Error', ErrorBody);
  app.doc31('/openapi.json', OPENAPI_INFO);

  app.notFound((c) => c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return errorResponse(c, asApiError(err));
    if (isUnreachable(err) || isOverDeadline(err)) {
      deps.logger.warn({ err: (err as Error).message, path: c.req.path }, 'database unreachable');
      return errorResponse(c, new ApiError('service_unavailable', 'the database is unreachable; try again shortly'));
    }
    if (isTemporalUnavailable(err)) {
      deps.logger.warn({ err: (err as Error).message, path: c.req.path }, 'Temporal unreachable');
      return errorResponse(c, new ApiError('service_unavailable', 'Temporal is unreachable; try again shortly'));
    }
    deps.logger.error({ err, path: c.req.path, requestId: c.get('requestId') }, 'unhandled error');
    return c.json(
      { error: 'internal_error', message: 'internal error; see the server log', request_id: c.get('requestId') },
      500,
    );
  });
  return app;
}

/**
 * A database call that outlived the API's deadline on it (server/deadline.ts, or the driver's own
 * `timeoutMS`): the server is up but does not answer (frozen, or its disk stalled), which for a client is
 * the same as down.
 */
function isOverDeadline(err: unknown): boolean {
  return err instanceof DatabaseDeadlineError || err instanceof MongoOperationTimeoutError;
}

/** A Temporal call that got no answer in time, or no connection: the server is down or frozen. */
function isTemporalUnavailable(err: unknown): boolean {
  const cause = err instanceof ServiceError ? (err.cause ?? err) : err;
  return isGrpcServiceError(cause) && GRPC_UNAVAILABLE.has(cause.code);
}
/** gRPC's DEADLINE_EXCEEDED and UNAVAILABLE. */
const GRPC_UNAVAILABLE = new Set([4, 14]);

/** Every documented route, as `METHOD /path`: the index lists what the OpenAPI document holds. */
function endpoints(app: OpenAPIHono<AppEnv>): string[] {
  const doc = app.getOpenAPI31Document(OPENAPI_INFO);
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item ?? {})
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
}
