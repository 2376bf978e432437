import { OpenAPIHono } from '@hono/zod-openapi';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { MongoOperationTimeoutError } from 'mongodb';
import { isUnreachable } from '../storage/unreachable.js';
import { analysisArtifactRoutes } from './analysis/artifacts.js';
import { runRoutes } from './analysis/http.js';
import { tradingAgentsRoutes } from './analysis/tradingAgents.js';
import { chatRoutes } from './chat/route.js';
import type { AppDeps, AppEnv } from './context.js';
import { DatabaseDeadlineError } from './deadline.js';
import { ApiError, asApiError, ErrorBody, errorResponse } from './http/errors.js';
import { authenticate } from './http/middleware/auth.js';
import { clientAddress, remoteAddress } from './http/middleware/clientAddress.js';
import { allowedHosts } from './http/middleware/hosts.js';
import { jsonBodies } from './http/middleware/jsonBodies.js';
import { enforce, RateLimiter } from './http/middleware/rateLimit.js';
import { sameOriginWrites } from './http/middleware/sameOrigin.js';
import { validationHook } from './http/validation.js';
import { withMiddlewareResponses } from './openApiDocument.js';
import { realtimeRoutes } from './realtime/routes.js';
import { adminRoutes } from './routes/admin.js';
import { authRoutes } from './routes/auth.js';
import { healthDetailsRoutes } from './routes/healthDetails.js';
import { jobStreamRoutes } from './routes/jobStream.js';
import { jobRoutes } from './routes/jobs.js';
import { meRoutes } from './routes/me.js';
import { priceRoutes } from './routes/prices.js';
import { scheduleRoutes } from './routes/schedules.js';
import { systemRoutes } from './routes/system.js';
import { webhookRoutes } from './routes/webhooks.js';
import { compareRoutes } from './simulation/compareRoute.js';
import { simulateRoutes } from './simulation/http.js';
import { resultRoutes } from './simulation/results.js';
import { tearSheetRoutes } from './simulation/tearsheet/route.js';

const OPENAPI_INFO = {
  openapi: '3.1.0',
  // Every route but health and this document needs a key (401 without one, 403 without the scope, 429 over a rate limit).
  security: [{ apiKey: [] }],
  info: {
    title: 'tradeflow',
    version: '0.1.0',
    description:
      'AI trading-analysis and trading-simulation jobs as Temporal durable workflows. Errors are `{ error, message, ... }` with the codes of the `Error` schema.',
  },
};

/** What every response says about itself: no page may frame, sniff or be referred from it; it runs no script. */
const SECURE_HEADERS = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
  },
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
});

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const limits = deps.auth.rateLimit;
  const perIp = new RateLimiter('per-ip', limits.perIp, limits.windowMs);
  app.use(requestId());
  app.use(clientAddress(deps.auth.trustedProxies));
  app.use(SECURE_HEADERS);
  app.use(allowedHosts(deps.auth.allowedHosts));
  // Browsers may call from the allowed sites only (no list: from none); preflights end here.
  const origins = new Set((deps.allowedOrigins ?? []).map((o) => o.replace(/\/$/, '').toLowerCase()));
  app.use(
    cors({
      origin: (origin) => (origins.has(origin.toLowerCase()) ? origin : null),
      allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID'],
      exposeHeaders: ['RateLimit', 'RateLimit-Policy', 'Retry-After', 'Content-Disposition'],
      maxAge: 600,
    }),
  );
  app.use(async (c, next) => {
    enforce(c, perIp, remoteAddress(c) ?? 'unknown', 'from this address');
    await next();
  });
  app.use(
    authenticate({
      accounts: deps.accounts,
      signIn: deps.signIn,
      settings: deps.auth,
      logger: deps.logger,
      limits: {
        perKey: new RateLimiter('per-key', limits.perKey, limits.windowMs),
        authFailures: new RateLimiter('auth-failures', limits.authFailuresPerIp, limits.windowMs),
      },
    }),
  );
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

  app.route('/simulate', simulateRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/jobs', jobRoutes(deps));
  app.route('/jobs', jobStreamRoutes(deps));
  app.route('/jobs', tradingAgentsRoutes(deps));
  app.route('/jobs', analysisArtifactRoutes(deps));
  app.route('/jobs', webhookRoutes(deps));
  app.route('/results', resultRoutes(deps));
  app.route('/compare', compareRoutes(deps));
  app.route('/runs', tearSheetRoutes(deps));
  app.route('/admin', adminRoutes(deps));
  app.route('/', healthDetailsRoutes(deps));
  app.route('/api/prices', priceRoutes(deps));
  app.route('/chat', chatRoutes(deps));
  app.route('/api', realtimeRoutes(deps));
  app.route('/me', meRoutes(deps));
  app.route('/auth', authRoutes(deps));
  app.route('/schedules', scheduleRoutes(deps));
  app.route(
    '/',
    systemRoutes(deps, () => endpoints(app)),
  );
  app.openAPIRegistry.register('Error', ErrorBody);
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'an API key (`tf_…`): the first start writes an admin key to $TRADEFLOW_DATA_DIR/admin-api-key',
  });
  // Built once, at the first request: by then every route is registered.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/openapi.json', (c) => {
    document ??= withMiddlewareResponses(app.getOpenAPI31Document(OPENAPI_INFO));
    return c.json(document);
  });

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
