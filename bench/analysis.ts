import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDockerApi } from '../devstack/podman.js';
import { dockerClient } from '../sandbox/factory.js';
import { buildSandboxImage } from '../sandbox/image.js';
import { startService } from '../test/service.js';
import { readSse } from '../test/sseClient.js';

const RUNS = Number(process.env.BENCH_ANALYSIS_RUNS ?? 5);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
};

/**
 * Analysis jobs: time from POST /run to the first SSE event and to the pipeline's first log line, in
 * the process sandbox and in a container (Podman's Docker API here), median of several runs.
 */
export async function analysisBenchmark(stack: { temporalAddress: string; mongoUri: string }, dailyFiles: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tradeflow-bench-analysis-'));
  const api = await ensureDockerApi({ dir: join(dir, 'podman') });
  const dockerHost = `unix://${api.socketPath}`;
  try {
    const image = await buildSandboxImage(dockerClient(dockerHost));
    console.log(`pipeline image ${image.image}: ${image.built ? 'built' : 'already there'} in ${image.ms} ms`);
    for (const mode of ['process', 'docker'] as const) {
      const svc = await startService({
        models: { models: [{ id: 'buy-and-hold', strategy: 'buy-and-hold' }] },
        temporalAddress: stack.temporalAddress,
        mongoUri: stack.mongoUri,
        env: {
          MARKET_DATA_FILES: dailyFiles,
          SANDBOX_MODE: mode,
          ...(mode === 'docker' ? { DOCKER_HOST: dockerHost, SANDBOX_IMAGE: image.image } : {}),
        },
      });
      const firstEvent: number[] = [];
      const firstLine: number[] = [];
      const sandboxToLine: number[] = [];
      const total: number[] = [];
      try {
        for (let i = 0; i < RUNS; i++) {
          const t0 = performance.now();
          const res = await svc.api('/run', { method: 'POST', json: { ticker: 'AAPL', date: '2025-10-15' } });
          if (res.status !== 202) throw new Error(`POST /run: ${res.status} ${JSON.stringify(res.body)}`);
          const { events } = await readSse(`${svc.baseUrl}/jobs/${res.body.job_id}/logs/stream`, {
            timeoutMs: 120_000,
            key: svc.adminKey,
          });
          const since = (e: { receivedAt: number } | undefined) =>
            e ? e.receivedAt - (performance.timeOrigin + t0) : Number.NaN;
          firstEvent.push(since(events.find((e) => e.id)));
          // The pipeline's own first line, not the worker's note that the sandbox started.
          firstLine.push(
            since(events.find((e) => e.event === 'log' && !String(e.data.message).startsWith('sandbox '))),
          );
          total.push(since(events.at(-1)));
          const detailed = (await svc.api(`/jobs/${res.body.job_id}/status/detailed`)).body;
          sandboxToLine.push(detailed.first_output_ms);
        }
      } finally {
        await svc.stop();
      }
      console.log(
        `analysis (${mode} sandbox, median of ${RUNS}): POST /run -> first SSE event ${median(firstEvent).toFixed(0)} ms, -> pipeline's first log line ${median(firstLine).toFixed(0)} ms (sandbox start -> first line ${median(sandboxToLine).toFixed(0)} ms), whole comprehensive job ${median(total).toFixed(0)} ms`,
      );
    }
  } finally {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
