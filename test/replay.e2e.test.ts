import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { ensureJobReconciler } from '../worker/jobReconciler.js';
import { closeJobWorkflowId } from '../workflows/definitions.js';
import { feedInterestSignal, marketFeedWorkflow, marketFeedWorkflowId } from '../workflows/realtime/marketFeed.js';
import { jobEndWebhookWorkflowId } from '../workflows/webhookContract.js';
import { startFakeOpenAi } from './fakeOpenAi.js';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { PROJECT_ROOT } from './paths.js';
import { workflowBundle } from './support/workflowBundle.js';

/**
 * Records real histories of every workflow and replays them at once. With `UPDATE_HISTORIES=1` each is
 * also saved as test/histories/<workflow>-<scenario>.<VERSION>.json for the unit layer's replay test
 * (test/replay.test.ts) unless that file exists. Bump VERSION when the workflow code changes: files are
 * never overwritten, so every version's histories keep being replayed.
 */
const VERSION = 'v12';

let h: Harness;
let llm: Awaited<ReturnType<typeof startFakeOpenAi>>;
// Completion webhooks (v4): jobs name a receiver on loopback, which fails each message's first attempt.
let receiver: Server;
let hook = '';
beforeAll(async () => {
  const seen = new Set<string>();
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      res.writeHead(seen.has(id) ? 200 : 503).end();
      seen.add(id);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  // A provider that rejects the key: a model that fails for good, for the partial path.
  llm = await startFakeOpenAi(() => ({ status: 401, body: { error: { message: 'Incorrect API key provided' } } }));
  h = await startHarness({
    models: {
      models: [
        ...STRATEGY_MODELS.models,
        { id: 'slow', strategy: 'momentum', params: { decision_delay_ms: 300 } },
        { id: 'bad-key-llm', llm: { model: 'gpt-test', base_url: llm.baseUrl, api_key_env: 'NO_SUCH_KEY' } },
      ],
    },
    // Small, so a job of a few weeks continues as new at least once.
    simulationOptions: { continueAsNewAfterEvents: 60 },
    env: { TRADEFLOW_WEBHOOK_ALLOW: '127.0.0.1' },
    webhooks: { retry: { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1000, maximumAttempts: 5 } },
  });
});
afterAll(async () => {
  await h?.stop();
  await llm?.close();
  await new Promise<void>((r) => receiver?.close(() => r()));
});

/** The delivery a job's workflow started when it recorded the end, once it has closed. */
async function keepDelivery(jobWorkflowId: string, jobId: string, name: string) {
  const { runId } = await h.temporal.workflow.getHandle(jobWorkflowId).describe();
  const workflowId = jobEndWebhookWorkflowId(jobId, runId);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const log = await h.api(`/jobs/${jobId}/webhooks`);
    if (log.body.deliveries?.[0]?.status === 'delivered') break;
    if (Date.now() > deadline) throw new Error(`no delivery for ${jobId}: ${JSON.stringify(log.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await h.temporal.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'delivered' });
  await keep(workflowId, name);
}

async function keep(workflowId: string, name: string, runId?: string) {
  const history = await h.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  if (!process.env.UPDATE_HISTORIES) return;
  const file = `${PROJECT_ROOT}test/histories/${name}.${VERSION}.json`;
  // Histories are added, never overwritten: a changed workflow gets a new VERSION.
  if (!existsSync(file)) writeFileSync(file, historyToJSON(history));
}

const simulate = (json: unknown) => h.api('/simulate/trigger', { method: 'POST', json });

describe('workflow histories from real runs replay on the current code', () => {
  it('simulationWorkflow: model-days, a stop recorded as stopping, cleanup', async () => {
    const res = await simulate({
      start_date: '2025-03-03',
      end_date: '2025-03-14',
      models: ['momentum', 'slow'],
      callback_url: hook,
    });
    await h.waitForJob(res.body.job_id, (b) => b.progress.completed >= 4);
    expect((await h.api(`/jobs/${res.body.job_id}/stop`, { method: 'POST' })).status).toBe(202);
    expect((await h.waitForJob(res.body.job_id)).status).toBe('stopped');
    await keep(res.body.job_id, 'simulationWorkflow-stop');
    // The end's delivery: prepared, a failed attempt retried, accepted.
    await keepDelivery(res.body.job_id, res.body.job_id, 'jobWebhookWorkflow-delivered');
  });

  it('simulationWorkflow: a model failing for good, skipped days, continue-as-new, a partial end', async () => {
    const res = await simulate({
      start_date: '2025-05-01',
      end_date: '2025-05-30',
      models: ['bad-key-llm', 'buy-and-hold', 'mean-reversion'],
    });
    const done = await h.waitForJob(res.body.job_id, undefined, 120_000);
    expect(done.status).toBe('partial');
    expect(done.progress).toMatchObject({ failed: 1, skipped: 20, completed: 42 });
    const handle = h.temporal.workflow.getHandle(res.body.job_id);
    const firstRun = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    expect(firstRun).toBeTruthy();
    expect(firstRun).not.toBe((await handle.describe()).runId);
    await keep(res.body.job_id, 'simulationWorkflow-partial-first-run', firstRun);
    await keep(res.body.job_id, 'simulationWorkflow-partial-continued');
  });

  it('simulationWorkflow: a backtest with trading costs, on a book of its own', async () => {
    const res = await simulate({
      start_date: '2025-03-03',
      end_date: '2025-03-07',
      models: ['momentum', 'buy-and-hold'],
      mode: 'backtest',
      initial_cash: 25_000,
      costs: { commission_per_order: 1, slippage_bps: 5 },
    });
    expect(res.status).toBe(202);
    expect((await h.waitForJob(res.body.job_id)).status).toBe('completed');
    await keep(res.body.job_id, 'simulationWorkflow-backtest');
  });

  it('simulationWorkflow: an hourly backtest, a session per bar', async () => {
    const res = await simulate({
      start_date: '2025-10-30',
      end_date: '2025-10-30',
      models: ['momentum'],
      mode: 'backtest',
      interval: '1h',
    });
    expect(res.status).toBe(202);
    expect((await h.waitForJob(res.body.job_id)).status).toBe('completed');
    await keep(res.body.job_id, 'simulationWorkflow-hourly');
  });

  it('analysisWorkflow: a stopped run, then a retry that completes as run 2', async () => {
    const res = await h.api('/run', { method: 'POST', json: { ticker: 'AAPL', callback_url: hook } });
    expect(res.status).toBe(202);
    const jobId = res.body.job_id;
    await h.waitForJob(jobId, (b) => b.status === 'running');
    await h.api(`/jobs/${jobId}/stop`, { method: 'POST', json: { reason: 'replay test' } });
    expect((await h.waitForJob(jobId)).status).toBe('stopped');
    const handle = h.temporal.workflow.getHandle(`analysis-${jobId}`);
    const firstRun = (await handle.describe()).runId;
    expect((await h.api(`/jobs/${jobId}/retry`, { method: 'POST' })).status).toBe(202);
    const done = await h.waitForJob(jobId, (b) => b.retry_count === 1 && b.status === 'completed', 90_000);
    expect(done.status).toBe('completed');
    await keep(`analysis-${jobId}`, 'analysisWorkflow-stop', firstRun);
    await keep(`analysis-${jobId}`, 'analysisWorkflow-retry');
  });

  it('closeAbandonedJobWorkflow: a job whose workflow was terminated is ended by its own workflow', async () => {
    const res = await simulate({
      start_date: '2025-04-01',
      end_date: '2025-04-11',
      models: ['slow'],
      callback_url: hook,
    });
    const jobId = res.body.job_id;
    await h.waitForJob(jobId, (b) => b.progress.completed >= 1);
    await h.temporal.workflow.getHandle(jobId).terminate('replay test: an operator terminated it');
    const stop = await h.api(`/jobs/${jobId}/stop`, { method: 'POST' });
    expect(stop.status).toBe(202);
    const ended = await h.waitForJob(jobId);
    expect(ended.status).toBe('stopped');
    expect(ended.progress.running).toBe(0);
    // Its model is free again: the same request resumes where it ended.
    const again = await simulate({ start_date: '2025-04-01', end_date: '2025-04-11', models: ['slow'] });
    expect(again.status).toBe(202);
    await h.waitForJob(again.body.job_id);
    await keep(closeJobWorkflowId(jobId), 'closeAbandonedJobWorkflow-simulation');
    // The end the close recorded is delivered too.
    await keepDelivery(closeJobWorkflowId(jobId), jobId, 'jobWebhookWorkflow-closed');
  });

  it('marketFeedWorkflow: windows of polls, interest signalled, an idle end', async () => {
    const workflowId = `${marketFeedWorkflowId('price', 'AAPL')}-replay`;
    const handle = await h.temporal.workflow.start(marketFeedWorkflow, {
      workflowId,
      taskQueue: h.settings.taskQueues.orchestrator,
      args: [
        {
          kind: 'price',
          symbol: 'AAPL',
          taskQueue: h.settings.realtime.taskQueue,
          pollEveryMs: 100,
          windowMs: 400,
          idleMs: 800,
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 500));
    await handle.signal(feedInterestSignal);
    expect(await handle.result()).toMatchObject({ cursor: expect.any(Number) });
    await keep(workflowId, 'marketFeedWorkflow-idle-end');
  });

  it('chatSessionWorkflow: a session started by its first message, a second message as an Update', async () => {
    const first = await h.api('/chat', { method: 'POST', json: { message: 'What about $AAPL?' } });
    expect(first.status).toBe(200);
    const second = await h.api('/chat', {
      method: 'POST',
      json: { message: 'and its last close?', session_id: first.body.session_id },
    });
    expect(second.status).toBe(200);
    expect(second.body.turn).toBe(2);
    await keep(`chat-${first.body.session_id}`, 'chatSessionWorkflow-two-messages');
  });

  it('reconcileJobsWorkflow: looks, closes a terminated job through a child, continues as new', async () => {
    // Short runs of a short interval, so a run that closed a job has continued as new within seconds.
    const { workflowId } = await ensureJobReconciler(
      h.temporal,
      h.settings.taskQueues.orchestrator,
      createLogger('silent'),
      {
        intervalMs: 500,
        roundsPerRun: 3,
      },
    );
    const res = await simulate({ start_date: '2025-06-02', end_date: '2025-06-13', models: ['slow'] });
    const jobId = res.body.job_id;
    await h.waitForJob(jobId, (b) => b.progress.completed >= 1);
    await h.temporal.workflow.getHandle(jobId).terminate('replay test: an operator terminated it');
    expect((await h.waitForJob(jobId)).status).toBe('failed');
    // The run that started the close, once it has continued as new (a whole run's history).
    const deadline = Date.now() + 60_000;
    let closer: string | undefined;
    while (!closer) {
      const runs = h.temporal.workflow.list({
        query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'ContinuedAsNew'`,
      });
      for await (const run of runs) {
        const history = await h.temporal.workflow.getHandle(workflowId, run.runId).fetchHistory();
        if (history.events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)) closer = run.runId;
      }
      if (!closer && Date.now() > deadline) throw new Error('no finished reconciler run started a close');
      await new Promise((r) => setTimeout(r, 500));
    }
    await keep(workflowId, 'reconcileJobsWorkflow-close-continued', closer);
    await h.temporal.workflow.getHandle(workflowId).terminate('replay test: done');
  });
});
