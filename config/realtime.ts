import { z } from 'zod';

/** The live hubs' settings: how often pollers poll, how long they outlive their last subscriber, limits. */
export interface RealtimeSettings {
  /** The task queue of the pollers' activities (long, mostly asleep: a worker of their own). */
  taskQueue: string;
  pollEveryMs: { price: number; news: number };
  windowMs: number;
  idleMs: number;
  interestEveryMs: number;
  tailEveryMs: number;
  maxBufferedBytes: number;
  maxSymbolsPerConnection: number;
  maxConnectionsPerUser: number;
  /** Pollers one worker runs at once (each is one symbol's channel). */
  workerPollers: number;
}

const ms = (fallback: number) => z.coerce.number().int().min(10).default(fallback);

const Env = z.object({
  TASK_QUEUE_PREFIX: z.string().default(''),
  REALTIME_PRICE_POLL_MS: ms(5_000),
  REALTIME_NEWS_POLL_MS: ms(60_000),
  REALTIME_WINDOW_MS: ms(30_000),
  REALTIME_IDLE_MS: ms(60_000),
  REALTIME_INTEREST_MS: ms(15_000),
  REALTIME_TAIL_MS: ms(250),
  REALTIME_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  REALTIME_MAX_SYMBOLS_PER_CONNECTION: z.coerce.number().int().min(1).default(200),
  REALTIME_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(2_000),
  REALTIME_WORKER_POLLERS: z.coerce.number().int().min(1).default(500),
});

/** Reads the REALTIME_* variables; a bad value names the variable. */
export function loadRealtimeSettings(env: NodeJS.ProcessEnv): RealtimeSettings {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  return {
    taskQueue: `${e.TASK_QUEUE_PREFIX}realtime`,
    pollEveryMs: { price: e.REALTIME_PRICE_POLL_MS, news: e.REALTIME_NEWS_POLL_MS },
    windowMs: e.REALTIME_WINDOW_MS,
    idleMs: e.REALTIME_IDLE_MS,
    interestEveryMs: e.REALTIME_INTEREST_MS,
    tailEveryMs: e.REALTIME_TAIL_MS,
    maxBufferedBytes: e.REALTIME_MAX_BUFFERED_BYTES,
    maxSymbolsPerConnection: e.REALTIME_MAX_SYMBOLS_PER_CONNECTION,
    maxConnectionsPerUser: e.REALTIME_MAX_CONNECTIONS_PER_USER,
    workerPollers: e.REALTIME_WORKER_POLLERS,
  };
}
