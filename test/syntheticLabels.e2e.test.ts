import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';
import { readSse } from './sseClient.js';

// What is made from the seeded walk says so where a person reads it: an analysis's live log and its
// report, next to the simulation labels tested with the simulations.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    models: { models: [{ id: 'buy-and-hold', strategy: 'buy-and-hold' }] },
    env: { MARKET_DATA_SOURCE: 'synthetic', MARKET_SYMBOLS: '' },
  });
});
afterAll(async () => {
  await h?.stop();
});

describe('an analysis made from synthetic prices', () => {
  it('says so in its live log and at the top of its report', async () => {
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'AAPL', date: '2025-10-15' } });
    expect(res.status).toBe(202);
    const jobId = res.body.job_id;
    const stream = await readSse(`${h.baseUrl}/jobs/${jobId}/logs/stream`, { timeoutMs: 90_000, key: h.adminKey });
    const logs = stream.events.filter((e) => e.event === 'log').map((e) => String(e.data.message));
    expect(logs.some((m) => m.includes('market data: synthetic-42: SYNTHETIC prices'))).toBe(true);
    expect(stream.events.at(-1)!.event).toBe('completed');
    const job = (await h.api(`/jobs/${jobId}`)).body;
    const file = job.files.find((f: any) => f.path === 'reports/AAPL_Professional_Analysis_Report.md');
    const report = await (await fetch(`${h.baseUrl}${file.url}`, { headers: h.authHeaders })).text();
    const [title, , header, , banner] = report.split('\n');
    expect(title).toContain('Professional Analysis Report');
    expect(header).toContain('market data synthetic-42');
    expect(banner).toMatch(/^> \*\*SYNTHETIC PRICES\*\* \(synthetic-42\)/);
  });
});
