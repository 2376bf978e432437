import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../context.js';
import { temporalDeadline } from '../deadline.js';
import { RETRY_AFTER_HEADER, RETRY_AFTER_S } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { HealthBody, ModelsBody } from '../responses.js';

/** How long /health waits for each dependency: a frozen one is down, as a dead one is. */
const PROBE_MS = 1_000;

async function probe(
  check: () => Promise<unknown>,
  timeoutMs = PROBE_MS,
): Promise<{ status: 'ok' | 'down'; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'ok' };
  } catch (err) {
    return { status: 'down', error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

const healthRoute = (path: string) =>
  createRoute({
    method: 'get',
    path,
    summary: 'Temporal and MongoDB reachability',
    // Answered without credentials (load balancers, orchestrators).
    security: [],
    responses: {
      200: { description: 'healthy', content: { 'application/json': { schema: HealthBody } } },
      503: {
        description: 'unhealthy',
        headers: RETRY_AFTER_HEADER,
        content: { 'application/json': { schema: HealthBody } },
      },
    },
  });

const models = createRoute({
  method: 'get',
  path: '/models',
  summary: 'The configured models (no secrets)',
  responses: { 200: { description: 'models', content: { 'application/json': { schema: ModelsBody } } } },
});

const index = createRoute({
  method: 'get',
  path: '/',
  summary: 'What this service is and where its API document is',
  responses: {
    200: {
      description: 'index',
      content: {
        'application/json': {
          schema: z.object({ service: z.string(), openapi: z.string(), endpoints: z.array(z.string()) }),
        },
      },
    },
  },
});

/** Health, the models and the index. */
export function systemRoutes(deps: AppDeps, endpoints: () => string[]) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  for (const path of ['/health', '/healthz']) {
    app.openapi(healthRoute(path), async (c) => {
      const [temporal, ping, write] = await Promise.all([
        probe(() => temporalDeadline(deps.temporal, () => deps.temporal.workflowService.getSystemInfo({}), PROBE_MS)),
        probe(() => deps.pingDatabase()),
        deps.storeHealth.check(),
      ]);
      const mongodb =
        ping.status === 'ok' && !write.writable
          ? {
              status: 'down' as const,
              error: `reachable, but cannot write: ${write.error}`,
              writable: false,
              cannot_write_since: write.since.toISOString(),
            }
          : {
              ...ping,
              writable: write.writable,
              ...(write.writable ? {} : { cannot_write_since: write.since.toISOString() }),
            };
      const body = {
        status: temporal.status === 'ok' && mongodb.status === 'ok' ? ('healthy' as const) : ('unhealthy' as const),
        timestamp: new Date().toISOString(),
        services: {
          temporal: {
            ...temporal,
            address: deps.temporalAddress,
            namespace: deps.namespace,
            ...(deps.temporalUiUrl ? { ui: deps.temporalUiUrl } : {}),
          },
          mongodb,
        },
      };
      if (body.status === 'healthy') return c.json(body, 200);
      c.header('Retry-After', String(RETRY_AFTER_S));
      return c.json(body, 503);
    });
  }

  app.openapi(models, (c) =>
    c.json(
      {
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
      },
      200,
    ),
  );

  app.openapi(index, (c) => c.json({ service: 'tradeflow', openapi: '/openapi.json', endpoints: endpoints() }, 200));

  return app;
}
