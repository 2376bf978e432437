import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';

let withWorker: Harness;
let noWorker: Harness;

beforeAll(async () => {
  // An LLM model's key, read from the environment as the service reads it.
  process.env.TF_HEALTH_TEST_LLM_KEY = 'sk-never-shown';
  const models = {
    ...STRATEGY_MODELS,
    models: [
      ...STRATEGY_MODELS.models,
      {
        id: 'llm',
        llm: { model: 'gpt-test', base_url: 'http://127.0.0.1:9/v1', api_key_env: 'TF_HEALTH_TEST_LLM_KEY' },
      },
    ],
  };
  [withWorker, noWorker] = await Promise.all([
    startHarness({ models }),
    startHarness({ models: STRATEGY_MODELS, worker: false }),
  ]);
});

afterAll(async () => {
  delete process.env.TF_HEALTH_TEST_LLM_KEY;
  await Promise.all([withWorker?.stop(), noWorker?.stop()]);
});

/** Asks until `until` holds: a worker's first poll reaches Temporal a moment after it starts. */
async function detailsWhen(h: Harness, until: (b: any) => boolean) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await h.api('/health/details');
    if (until(res.body) || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('/health/details names what is broken', () => {
  it('needs a key, then reports each component with its state and latency', async () => {
    expect((await withWorker.api('/health/details', { key: null })).status).toBe(401);
    const res = await detailsWhen(withWorker, (b) => b.components?.workers_simulation?.state === 'ok');
    expect(res.status).toBe(200);
    const c = res.body.components;
    for (const name of ['temporal', 'mongodb', 'workers_orchestrator', 'workers_simulation', 'market_data', 'disk']) {
      expect(c[name].state, name).toBe('ok');
      expect(typeof c[name].latency_ms, name).toBe('number');
    }
    expect(c.mongodb.detail.writable).toBe(true);
    expect(c.workers_simulation.detail.pollers).toBeGreaterThan(0);
    expect(c.disk.detail.free_bytes).toBeGreaterThan(0);
    expect(c.market_data.detail).toMatchObject({ source: 'files', latest_date: '2025-10-30' });
    expect(c.sandbox.detail.mode).toBe('process');
    expect(c.news.state).toBe('not_configured');
    // Which optional keys are set, never their values.
    expect(res.body.optional_keys).toMatchObject({
      TF_HEALTH_TEST_LLM_KEY: true,
      TRADEFLOW_SMTP_URL: false,
      MARKET_HOURLY_FILES: true,
    });
    expect(JSON.stringify(res.body)).not.toContain('sk-never-shown');
  });

  it('answers 503 naming the workers when none polls a required task queue', async () => {
    const res = await noWorker.api('/health/details');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(res.body.status).toBe('unhealthy');
    expect(res.body.components.workers_orchestrator).toMatchObject({ state: 'down', required: true });
    expect(res.body.components.workers_simulation).toMatchObject({ state: 'down', required: true });
    expect(res.body.components.temporal.state).toBe('ok');
    // /health stays cheap and says nothing of workers.
    expect((await noWorker.api('/health', { key: null })).status).toBe(200);
  });
});
