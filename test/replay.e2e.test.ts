import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { PROJECT_ROOT } from './paths.js';
import { workflowBundle } from './service.js';

/**
 * Determinism guard: histories recorded from real runs must replay on the current workflow code.
 * A change that would break running workflows fails here. `UPDATE_HISTORIES=1` records a new one
 * (only when the workflow changes on purpose, together with a versioning plan).
 */
const COMMITTED = `${PROJECT_ROOT}test/histories/simulation-stop.json`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    models: {
      models: [...STRATEGY_MODELS.models, { id: 'slow', strategy: 'momentum', params: { decision_delay_ms: 300 } }],
    },
  });
});
afterAll(async () => h?.stop());

describe('workflow replay', () => {
  it('replays a fresh run with a failure-free path, a stop and cleanup', async () => {
    const res = await h.api('/simulate/trigger', {
      method: 'POST',
      json: { start_date: '2025-03-03', end_date: '2025-03-14', models: ['momentum', 'slow'] },
    });
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 4);
    await h.api(`/jobs/${res.body.job_id}/stop`, { method: 'POST' });
    expect((await h.waitForJob(res.body.job_id)).status).toBe('stopped');
    const history = await h.temporal.workflow.getHandle(res.body.job_id).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, res.body.job_id);
    if (process.env.UPDATE_HISTORIES) writeFileSync(COMMITTED, historyToJSON(history));
  });

  it('replays the committed history on the current code', async () => {
    expect(existsSync(COMMITTED)).toBe(true);
    const history = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'committed-simulation');
  });
});
