import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../test/paths.js';
import type { Harness } from '../test/service.js';

/**
 * Ten models whose agent takes 200 ms a call: the 10-model job that runs in the background while the API
 * is under load, as an LLM-driven job would.
 */
export const API_BACKGROUND_MODELS = Array.from({ length: 10 }, (_, i) => ({
  id: `api-background-${i}`,
  strategy: 'momentum',
  params: { lookback: 5 + i, decision_delay_ms: 200 },
}));

/** Models only the trigger benchmark uses, one per trigger, so every trigger starts a job of its own. */
export const API_BENCH_MODELS = Array.from({ length: 400 }, (_, i) => ({
  id: `api-bench-${i}`,
  strategy: 'buy-and-hold',
}));

interface Load {
  count: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

function load(
  key: string,
  url: string,
  method: string,
  concurrency: number,
  total: number,
  body?: string,
  offset = 0,
): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/httpLoad.ts',
        url,
        method,
        String(concurrency),
        String(total),
        body ?? '',
        String(offset),
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, TRADEFLOW_API_KEY: key }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Load) : reject(new Error(`load generator exited ${code}`)),
    );
  });
}

/**
 * The API under load, at 1, 10 and 50 concurrent clients, while a 10-model job (200 ms agent calls, a
 * backtest of API_BACKGROUND_MODELS) runs: the status of a finished job of `modelDays` model-days, a year
 * of results for its models, and triggers that each start a new job.
 */
export async function apiBenchmark(
  svc: Harness,
  o: { jobId: string; models: string[]; from: string; to: string; latest: string },
) {
  const background = await svc.api('/simulate/trigger', {
    method: 'POST',
    json: { mode: 'backtest', start_date: o.from, end_date: o.latest, models: API_BACKGROUND_MODELS.map((m) => m.id) },
  });
  if (background.status !== 202)
    throw new Error(`background job: ${background.status} ${JSON.stringify(background.body)}`);
  const backgroundId: string = background.body.job_id;
  try {
    await loadWhileRunning(svc, o);
  } finally {
    const during = await svc.api(`/jobs/${backgroundId}`);
    console.log(
      `  (the background 10-model job was ${during.body.status} throughout: ${during.body.progress?.completed ?? '?'} model-days done when the load ended)`,
    );
    await svc.api(`/jobs/${backgroundId}/stop`, { method: 'POST' });
    await svc.waitForJob(backgroundId, undefined, 300_000);
  }
}

async function loadWhileRunning(
  svc: Harness,
  o: { jobId: string; models: string[]; from: string; to: string; latest: string },
) {
  const levels = [1, 10, 50];
  const requestsAt = (c: number) => Math.max(20, c * 4);
  let triggers = 0;
  const cases: Array<{ name: string; goal: string; run: (c: number) => Promise<Load> }> = [
    {
      name: `status of a ${o.models.length}-model job`,
      goal: 'p99 < 50 ms at 50',
      run: (c) => load(svc.adminKey, `${svc.baseUrl}/jobs/${o.jobId}`, 'GET', c, requestsAt(c)),
    },
    {
      name: `a year of results, ${o.models.length} models`,
      goal: 'p99 < 300 ms at 50',
      run: (c) =>
        load(
          svc.adminKey,
          `${svc.baseUrl}/results?start_date=${o.from}&end_date=${o.to}&model=${o.models.join(',')}`,
          'GET',
          c,
          requestsAt(c),
        ),
    },
    {
      name: 'trigger of a new job',
      goal: 'p99 < 100 ms at 50',
      run: async (c) => {
        const first = triggers;
        triggers += requestsAt(c);
        const body = JSON.stringify({ start_date: o.latest, end_date: o.latest, models: ['api-bench-{i}'] });
        return load(svc.adminKey, `${svc.baseUrl}/simulate/trigger`, 'POST', c, requestsAt(c), body, first);
      },
    },
  ];
  for (const k of cases) {
    const figures: string[] = [];
    for (const c of levels) {
      const r = await k.run(c);
      const odd = Object.entries(r.statuses).filter(([s]) => !['200', '202'].includes(s));
      figures.push(
        `${c}: ${r.p50}/${r.p99} ms${odd.length ? ` (${odd.map(([s, n]) => `${n}x ${s}`).join(', ')})` : ''}`,
      );
    }
    console.log(`API ${k.name}, p50/p99 by clients: ${figures.join('; ')} (goal ${k.goal})`);
  }
}

/**
 * `GET /compare` of a finished job's models over its range, each request a fresh computation (the start
 * moves a day each time, so no answer is shared): the table, the equal-weight basket of its symbols and
 * 2,000 paired bootstrap resamples per interval.
 */
export async function compareBenchmark(svc: Harness, o: { jobId: string; models: string[]; from: string }) {
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const start = new Date(Date.parse(`${o.from}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
    const t0 = performance.now();
    const res = await fetch(`${svc.baseUrl}/compare?job_id=${o.jobId}&start_date=${start}`, {
      headers: { authorization: `Bearer ${svc.adminKey}` },
    });
    const body = (await res.json()) as { trading_days?: number; ranking?: unknown[] };
    if (res.status !== 200 || body.ranking?.length !== o.models.length) {
      throw new Error(`/compare answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
    }
    // The first request warms the bar cache and the JIT: not counted.
    if (i > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(0);
  console.log(
    `/compare of ${o.models.length} models over ${o.from}.. (a fresh computation each): p50 ${at(0.5)} ms, max ${at(1)} ms (goal < 200 ms)`,
  );
}

/** A run's tear sheet, drawn fresh (the first request of each; later ones are served from memory). */
export async function tearSheetBenchmark(svc: Harness, o: { jobId: string; models: string[] }) {
  const figures: string[] = [];
  for (const [name, path] of [
    ['page', `/runs/${o.jobId}/tearsheet`],
    ['PDF', `/runs/${o.jobId}/tearsheet.pdf`],
  ] as const) {
    const t0 = performance.now();
    const res = await fetch(`${svc.baseUrl}${path}`, { headers: { authorization: `Bearer ${svc.adminKey}` } });
    const bytes = (await res.arrayBuffer()).byteLength;
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    figures.push(`${name} ${(performance.now() - t0).toFixed(0)} ms (${(bytes / 1024).toFixed(0)} KiB)`);
  }
  console.log(`tear sheet of ${o.models.length} models: ${figures.join(', ')} (goal < 2 s)`);
}
