import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { AppDeps, AppEnv } from './context.js';
import { ApiError, errorResponse } from './errors.js';
import { openApiDocument } from './openapi.js';
import { analysisRoutes } from './routes/analysis.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { logRoutes } from './routes/logs.js';
import { resultRoutes } from './routes/results.js';
import { simulateRoutes } from './routes/simulate.js';

/** Until accounts exist every job belongs to `local`; the owner is stored so isolation needs no migration. */
export const LOCAL_OWNER = 'local';

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new ApiError('payload_too_large', 'request body is over 1 MiB');
      },
    }),
  );
  app.use(async (c, next) => {
    c.set('owner', LOCAL_OWNER);
    await next();
  });

  app.get('/', (c) =>
    c.json({
      service: 'tradeflow',
      endpoints: [
        'POST /run',
        'POST /jobs',
        'GET /jobs/{job_id}/result',
        'GET /jobs/{job_id}/files',
        'GET /jobs/{job_id}/files/{path}',
        'GET /jobs/{job_id}/download/{artifact}',
        'GET /batches/{batch_id}',
        'POST /simulate/trigger',
        'GET /simulate/status/{job_id}',
        'GET /simulate/current',
        'GET /jobs',
        'GET /jobs/{job_id}',
        'POST /jobs/{job_id}/stop',
        'GET /jobs/{job_id}/logs',
        'GET /jobs/{job_id}/logs/stream',
        'GET /results',
        'GET /models',
        'GET /health',
      ],
    }),
  );
  const openapi = openApiDocument();
  app.get('/openapi.json', (c) => c.json(openapi));
  app.route('/simulate', simulateRoutes(deps));
  app.route('/', analysisRoutes(deps));
  app.route('/jobs', logRoutes(deps));
  app.route('/jobs', jobRoutes(deps));
  app.route('/results', resultRoutes(deps));
  app.route('/health', healthRoutes(deps));
  app.route('/healthz', healthRoutes(deps));
  app.get('/models', (c) =>
    c.json({
      models: deps.models.list().map((m) =>
        m.kind === 'strategy'
          ? { id: m.id, kind: m.kind, strategy: m.strategy, params: m.params, initial_cash: m.initialCash }
          : {
              id: m.id,
              kind: m.kind,
              model: m.model,
              base_url: m.baseUrl,
              max_steps: m.maxSteps,
              initial_cash: m.initialCash,
            },
      ),
    }),
  );

  app.notFound((c) => c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    if (err instanceof HTTPException) return c.json({ error: 'bad_request', message: err.message }, err.status);
    deps.logger.error({ err, path: c.req.path, requestId: c.get('requestId') }, 'unhandled error');
    return c.json(
      { error: 'internal_error', message: 'internal error; see the server log', request_id: c.get('requestId') },
      500,
    );
  });
  return app;
}
