import { statfs } from 'node:fs/promises';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { dockerClient } from '../../sandbox/factory.js';
import type { AppDeps, AppEnv } from '../context.js';
import { temporalDeadline } from '../deadline.js';
import { RETRY_AFTER_HEADER, RETRY_AFTER_S } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import type { FeedHub } from '../realtime/feedHub.js';
import type { RealtimeHubs } from '../realtime/routes.js';

/** How long each component may take to answer: a frozen one is down, as a dead one is. */
const PROBE_MS = 2_000;
/** A task queue whose last poll is older than this has no worker. */
const POLLER_STALE_MS = 90_000;
/** Below this share of free space the data folder is reported low. */
const LOW_DISK = 0.05;

// Temporal's enum values (temporal.api.enums.v1), as numbers: the client takes them so.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** What /health/details reads besides the app's clients: fixed when the app is built. */
export interface HealthFacts {
  taskQueues: { orchestrator: string; simulation: string; jobWrites?: string; analysis: string; chat?: string };
  /** The live pollers' queue, when the app has hubs. */
  realtimeTaskQueue?: string;
  sandbox: { mode: 'process' | 'docker'; dockerHost?: string; image?: string };
  /** News files the agents read (0: none). */
  newsFiles: number;
  /** Optional settings by name: whether each is set (never its value). */
  optionalKeys: Record<string, boolean>;
}

const State = z.enum(['ok', 'down', 'degraded', 'not_configured']);
const Component = z.object({
  state: State,
  required: z.boolean().openapi({ description: 'a required component down makes the answer a 503' }),
  latency_ms: z.number().nullable(),
  error: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

const HealthDetailsBody = z
  .object({
    status: z.enum(['healthy', 'degraded', 'unhealthy']),
    timestamp: z.string(),
    components: z.record(z.string(), Component),
    optional_keys: z.record(z.string(), z.boolean()).openapi({ description: 'whether each optional key is set' }),
  })
  .openapi('HealthDetails');

const details = createRoute({
  method: 'get',
  path: '/health/details',
  summary: 'Each component with its state and latency, and which optional keys are set',
  responses: {
    200: {
      description: 'every required component answers',
      content: { 'application/json': { schema: HealthDetailsBody } },
    },
    503: {
      description: 'a required component is down',
      headers: RETRY_AFTER_HEADER,
      content: { 'application/json': { schema: HealthDetailsBody } },
    },
  },
});

type ComponentState = z.infer<typeof Component>;

/** Runs a check with a deadline, timing it; its detail goes with the answer. */
async function timed(
  required: boolean,
  check: () => Promise<{ state?: ComponentState['state']; detail?: Record<string, unknown> } | undefined>,
): Promise<ComponentState> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const out = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_MS} ms`)), PROBE_MS);
      }),
    ]);
    return {
      state: out?.state ?? 'ok',
      required,
      latency_ms: Math.round((performance.now() - t0) * 10) / 10,
      ...(out?.detail ? { detail: out.detail } : {}),
    };
  } catch (err) {
    return { state: 'down', required, latency_ms: null, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Each hub's subscribers and symbols on this instance, what it delivered and dropped, and its last item. */
function hubsHealth(hubs: RealtimeHubs | undefined): ComponentState {
  if (!hubs) return { state: 'not_configured', required: false, latency_ms: null };
  const one = (hub: FeedHub | undefined) =>
    hub
      ? {
          subscribers: hub.subscriberCount,
          symbols: hub.symbolCount,
          delivered: hub.stats.delivered,
          dropped_slow_consumers: hub.stats.dropped,
          last_item_at: hub.stats.lastItemAt,
          ...(hub.stats.lastTailError ? { feed_error: hub.stats.lastTailError } : {}),
        }
      : 'not_configured';
  const failing = [hubs.price, hubs.news].some((h) => h?.stats.lastTailError);
  return {
    state: failing ? 'degraded' : 'ok',
    required: false,
    latency_ms: null,
    detail: { prices: one(hubs.price), news: one(hubs.news) },
  };
}

export function healthDetailsRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const facts = deps.healthFacts;

  /** Who polls a task queue: workers seen within POLLER_STALE_MS, by the kind of task they take. */
  const pollers = (name: string, type: number) =>
    timed(true, async () => {
      const answer = await temporalDeadline(
        deps.temporal,
        () =>
          deps.temporal.workflowService.describeTaskQueue({
            namespace: deps.namespace,
            taskQueue: { name, kind: TASK_QUEUE_KIND_NORMAL },
            taskQueueType: type,
          }),
        PROBE_MS,
      );
      const now = Date.now();
      const seen = (answer.pollers ?? []).filter((p) => {
        const s = Number(p.lastAccessTime?.seconds ?? 0) * 1000;
        return now - s < POLLER_STALE_MS;
      });
      return {
        state: seen.length > 0 ? 'ok' : 'down',
        detail: { task_queue: name, pollers: seen.length, identities: seen.map((p) => p.identity ?? '') },
      };
    });

  app.openapi(details, async (c) => {
    const [
      temporal,
      mongodb,
      orchestrator,
      simulation,
      jobWrites,
      analysis,
      pollerWorkers,
      chatWorkers,
      sandbox,
      market,
      disk,
    ] = await Promise.all([
      timed(true, async () => {
        await temporalDeadline(deps.temporal, () => deps.temporal.workflowService.getSystemInfo({}), PROBE_MS);
        return { detail: { address: deps.temporalAddress, namespace: deps.namespace } };
      }),
      timed(true, async () => {
        await deps.pingDatabase();
        const write = await deps.storeHealth.check();
        return write.writable
          ? { detail: { writable: true } }
          : { state: 'down', detail: { writable: false, cannot_write_since: write.since.toISOString() } };
      }),
      pollers(facts.taskQueues.orchestrator, TASK_QUEUE_TYPE_WORKFLOW),
      pollers(facts.taskQueues.simulation, TASK_QUEUE_TYPE_ACTIVITY),
      // Simulations start, commit and end through it.
      facts.taskQueues.jobWrites
        ? pollers(facts.taskQueues.jobWrites, TASK_QUEUE_TYPE_ACTIVITY)
        : Promise.resolve<ComponentState>({ state: 'not_configured', required: false, latency_ms: null }),
      // Analyses only stop when no worker takes them: the service still runs simulations.
      pollers(facts.taskQueues.analysis, TASK_QUEUE_TYPE_ACTIVITY).then((s) => ({ ...s, required: false })),
      // The live hubs stop without it; jobs do not.
      facts.realtimeTaskQueue
        ? pollers(facts.realtimeTaskQueue, TASK_QUEUE_TYPE_ACTIVITY).then((s) => ({ ...s, required: false }))
        : Promise.resolve<ComponentState>({ state: 'not_configured', required: false, latency_ms: null }),
      // Chat answers wait without it; jobs do not.
      facts.taskQueues.chat
        ? pollers(facts.taskQueues.chat, TASK_QUEUE_TYPE_ACTIVITY).then((s) => ({ ...s, required: false }))
        : Promise.resolve<ComponentState>({ state: 'not_configured', required: false, latency_ms: null }),
      facts.sandbox.mode === 'docker'
        ? timed(false, async () => {
            const docker = dockerClient(facts.sandbox.dockerHost);
            await docker.ping();
            if (!facts.sandbox.image) return { detail: { mode: 'docker', image: 'built by the worker at its start' } };
            const image = await docker
              .getImage(facts.sandbox.image)
              .inspect()
              .then(
                () => true,
                () => false,
              );
            return {
              state: image ? 'ok' : 'degraded',
              detail: { mode: 'docker', image: facts.sandbox.image, image_present: image },
            };
          })
        : Promise.resolve<ComponentState>({
            state: 'ok',
            required: false,
            latency_ms: null,
            detail: { mode: 'process' },
          }),
      timed(false, async () => ({
        detail: { source: deps.market.name, latest_date: await deps.market.latestDate() },
      })),
      timed(false, async () => {
        const s = await statfs(deps.dataDir);
        const free = s.bavail * s.bsize;
        const total = s.blocks * s.bsize;
        return {
          state: total > 0 && free / total < LOW_DISK ? 'degraded' : 'ok',
          detail: { path: deps.dataDir, free_bytes: free, total_bytes: total },
        };
      }),
    ]);
    const components: Record<string, ComponentState> = {
      temporal,
      mongodb,
      workers_orchestrator: orchestrator,
      workers_simulation: simulation,
      workers_job_writes: jobWrites,
      workers_analysis: analysis,
      workers_realtime: pollerWorkers,
      workers_chat: chatWorkers,
      sandbox,
      market_data: market,
      disk,
      news: facts.newsFiles
        ? { state: 'ok', required: false, latency_ms: null, detail: { source: 'news-files', files: facts.newsFiles } }
        : { state: 'not_configured', required: false, latency_ms: null },
      websocket_hubs: hubsHealth(deps.realtime),
    };
    const all = Object.values(components);
    const status = all.some((x) => x.required && x.state === 'down')
      ? ('unhealthy' as const)
      : all.some((x) => x.state === 'down' || x.state === 'degraded')
        ? ('degraded' as const)
        : ('healthy' as const);
    const body = { status, timestamp: new Date().toISOString(), components, optional_keys: facts.optionalKeys };
    if (status !== 'unhealthy') return c.json(body, 200);
    c.header('Retry-After', String(RETRY_AFTER_S));
    return c.json(body, 503);
  });

  return app;
}
