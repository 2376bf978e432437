import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SANDBOX_LABELS } from '../sandbox/types.js';
import { startFakeOpenAi } from './fakeOpenAi.js';
import { type Harness, startHarness } from './harness.js';
import { readSse, type SseEvent } from './sseClient.js';

// Analysis jobs in real containers, through the Docker Engine API that Podman serves here (started by
// the test set-up), with the pipeline image the set-up built from local parts.

let h: Harness;
let llm: Awaited<ReturnType<typeof startFakeOpenAi>>;
let llmDelayMs = 0;
const docker = () => new Dockerode({ socketPath: inject('dockerHost').slice('unix://'.length) });

beforeAll(async () => {
  llm = await startFakeOpenAi(async () => {
    if (llmDelayMs) await new Promise((r) => setTimeout(r, llmDelayMs));
    return { content: 'A model view.', usage: { prompt: 10, completion: 5 } };
  });
  h = await startHarness({
    models: {
      models: [{ id: 'slow-llm', llm: { model: 'gpt-test', base_url: llm.baseUrl, api_key_env: 'FAKE_KEY' } }],
    },
    env: {
      SANDBOX_MODE: 'docker',
      DOCKER_HOST: inject('dockerHost'),
      SANDBOX_IMAGE: inject('sandboxImage'),
      SANDBOX_MEMORY_MB: '512',
      // LLM jobs reach the fake provider on loopback; deterministic jobs still get no network at all.
      SANDBOX_NETWORK: 'host',
    },
  });
  process.env.FAKE_KEY = 'sk-test';
});
afterAll(async () => {
  await h?.stop();
  await llm?.close();
});

const containersOf = async (jobId: string) =>
  docker().listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.job}=${jobId}`] } });

async function waitForStatus(jobId: string, statuses: string[], timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await h.api(`/jobs/${jobId}`);
    if (statuses.includes(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} still ${body.status}: ${JSON.stringify(body).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('docker sandbox (Podman through the Docker API)', () => {
  it('runs a job in a labelled container and streams it from start to finish', async () => {
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'NVDA', date: '2025-10-01' } });
    expect(res.status).toBe(202);
    const jobId = res.body.job_id;
    // Reconnect mid-stream: the second connection resumes from the last id it saw.
    const first = await readSse(`${h.baseUrl}/jobs/${jobId}/logs/stream`, {
      stopAfter: (ev) => ev.filter((e) => e.event === 'log').length >= 5,
      timeoutMs: 120_000,
      key: h.adminKey,
    });
    const lastId = first.events.filter((e) => e.id).at(-1)!.id!;
    let sawContainer = false;
    for (let i = 0; i < 50 && !sawContainer; i++) {
      const list = await containersOf(jobId);
      sawContainer = list.length > 0 && list[0]!.Labels[SANDBOX_LABELS.managed] === 'true';
      if (!sawContainer && (await h.api(`/jobs/${jobId}`)).body.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const rest = await readSse(`${h.baseUrl}/jobs/${jobId}/logs/stream`, {
      lastEventId: lastId,
      timeoutMs: 120_000,
      key: h.adminKey,
    });
    const all: SseEvent[] = [...first.events, ...rest.events].filter((e) => e.id);
    expect(all.map((e) => Number(e.id))).toEqual(all.map((_, i) => i + 1));
    expect(rest.events.at(-1)!.event).toBe('completed');
    expect(all.some((e) => e.event === 'log' && String(e.data.message).startsWith('sandbox docker'))).toBe(true);
    const job = await waitForStatus(jobId, ['completed']);
    expect(job.sandbox).toBe('docker');
    expect(job.files.map((f: any) => f.path)).toContain('reports/NVDA_Professional_Analysis_Report.pdf');
    const pdf = await fetch(`${h.baseUrl}/jobs/${jobId}/download/professional-report`, { headers: h.authHeaders });
    expect((await pdf.arrayBuffer()).byteLength).toBeGreaterThan(5000);
    const detailed = (await h.api(`/jobs/${jobId}/status/detailed`)).body;
    expect(detailed.exit_code).toBe(0);
    expect(detailed.first_output_ms).toBeGreaterThan(0);
    expect(await containersOf(jobId)).toEqual([]);
  });

  it('stops a running container: SIGTERM, then removal; no container is left', async () => {
    llmDelayMs = 2_000;
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'AAPL', date: '2025-10-01', llm: 'slow-llm' } });
    const jobId = res.body.job_id;
    await waitForStatus(jobId, ['running']);
    for (let i = 0; i < 100 && (await containersOf(jobId)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await containersOf(jobId)).length).toBe(1);
    const stop = await h.api(`/jobs/${jobId}/stop`, { method: 'POST', json: { reason: 'test stop' } });
    expect(stop.status).toBe(202);
    expect(['stopping', 'stopped']).toContain(stop.body.status);
    const job = await waitForStatus(jobId, ['stopped', 'completed', 'failed'], 60_000);
    expect(job.status).toBe('stopped');
    expect(job.retryable).toBe(true);
    expect(await containersOf(jobId)).toEqual([]);
    const events = (await h.api(`/jobs/${jobId}/logs?limit=500`)).body.events as any[];
    expect(events.at(-1).type).toBe('completed');
    expect(events.at(-1).status).toBe('stopped');
    llmDelayMs = 0;
  });

  it('kills a job that runs past its timeout and removes its container', async () => {
    llmDelayMs = 3_000;
    const res = await h.api('/run', {
      method: 'POST',
      json: { ticker: 'MSFT', date: '2025-10-01', llm: 'slow-llm', timeout_s: 5 },
    });
    const job = await waitForStatus(res.body.job_id, ['failed', 'completed', 'stopped'], 60_000);
    expect(job.status).toBe('failed');
    expect(job.error_type).toBe('timeout');
    expect(job.error).toContain('5 s');
    expect(await containersOf(res.body.job_id)).toEqual([]);
    llmDelayMs = 0;
  });
});
