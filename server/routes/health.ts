import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../context.js';

async function probe(
  check: () => Promise<unknown>,
  timeoutMs = 3000,
): Promise<{ status: 'ok' | 'down'; error?: string }> {
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
    return { status: 'ok' };
  } catch (err) {
    return { status: 'down', error: (err as Error).message };
  }
}

export function healthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const [temporal, mongodb] = await Promise.all([
      probe(() => deps.temporal.workflowService.getSystemInfo({})),
      probe(() => deps.db.db.command({ ping: 1 })),
    ]);
    const ok = temporal.status === 'ok' && mongodb.status === 'ok';
    return c.json(
      {
        status: ok ? 'healthy' : 'unhealthy',
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
      },
      ok ? 200 : 503,
    );
  });
  return app;
}
