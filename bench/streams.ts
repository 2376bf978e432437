import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../test/paths.js';
import type { Harness } from '../test/service.js';
import { readSse } from '../test/sseClient.js';

interface ClientReport {
  count: number;
  incomplete: number;
  events: number;
  p50: number;
  p99: number;
  max: number;
}

function runClients(url: string, count: number, key: string): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sseClients.ts', url, String(count)], {
      cwd: PROJECT_ROOT,
      // The key goes by environment, not argv (which `ps` shows to every user).
      env: { ...process.env, TRADEFLOW_API_KEY: key },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as ClientReport) : reject(new Error(`clients exited ${code}`)),
    );
  });
}

async function trigger(svc: Harness, start: string, end: string): Promise<string> {
  const res = await svc.api('/simulate/trigger', { method: 'POST', json: { start_date: start, end_date: end } });
  if (res.status !== 202) throw new Error(`trigger failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.job_id;
}

/** SSE figures: time to the first events, and delivery latency with 1, 100 and 1,000 streams of one job. */
export async function streamBenchmark(svc: Harness, ranges: Array<[string, string]>) {
  const [firstRange, ...streamRanges] = ranges;
  const t0 = performance.now();
  const jobId = await trigger(svc, ...firstRange!);
  const firstEvents = await readSse(`${svc.baseUrl}/jobs/${jobId}/logs/stream`, {
    stopAfter: (evs) => evs.some((e) => e.event === 'status' && e.data.status === 'running'),
    key: svc.adminKey,
  });
  const at = (pred: (e: (typeof firstEvents.events)[number]) => boolean) => {
    const e = firstEvents.events.find(pred);
    return e ? (e.receivedAt - (performance.timeOrigin + t0)).toFixed(0) : 'n/a';
  };
  console.log(
    `SSE: POST /simulate/trigger -> connection ${at((e) => e.event === 'connection')} ms, first event ${at((e) => Boolean(e.id))} ms, worker's 'running' ${at((e) => e.data?.status === 'running')} ms`,
  );
  await svc.waitForJob(jobId);

  for (const [i, count] of [1, 100, 1000].entries()) {
    const range = streamRanges[i]!;
    const rssBefore = process.memoryUsage().rss;
    const id = await trigger(svc, ...range);
    const clients = runClients(`${svc.baseUrl}/jobs/${id}/logs/stream`, count, svc.adminKey);
    // Sample the server's memory while the streams are open.
    await new Promise((r) => setTimeout(r, 1500));
    const rssDuring = process.memoryUsage().rss;
    const report = await clients;
    await svc.waitForJob(id);
    console.log(
      `SSE ${String(count).padStart(4)} stream(s): ${report.events} live deliveries, ${report.incomplete} stream(s) without the final event, latency p50 ${report.p50} ms, p99 ${report.p99} ms, max ${report.max} ms (goal p99 < 250 ms at 1000), server memory ~${((rssDuring - rssBefore) / Math.max(1, count) / 1024).toFixed(1)} KiB/stream`,
    );
  }
}
