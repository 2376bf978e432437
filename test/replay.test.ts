import { readdirSync, readFileSync } from 'node:fs';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './paths.js';
import { workflowBundle } from './support/workflowBundle.js';

/**
 * Determinism guard, with nothing started: histories recorded from real runs of every workflow
 * version (test/histories/<workflow>-<scenario>.v<N>.json, added by test/replay.e2e.test.ts and never
 * overwritten) must replay on the current workflow code. A change that would break workflows already
 * running fails here.
 */
const DIR = `${PROJECT_ROOT}test/histories/`;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const load = (file: string) => JSON.parse(readFileSync(`${DIR}${file}`, 'utf8'));

beforeAll(() => {
  try {
    // The nondeterminism case makes the SDK's core warn by design: keep the output to errors.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  } catch {
    // Installed already by another file in this worker.
  }
});

describe('replay of committed workflow histories', () => {
  it('has histories of every workflow type', () => {
    const types = new Set(files.map((f) => f.split('-')[0]));
    expect([...types].sort()).toEqual([
      'analysisWorkflow',
      'chatSessionWorkflow',
      'closeAbandonedJobWorkflow',
      'dailyReportsWorkflow',
      'jobWebhookWorkflow',
      'marketFeedWorkflow',
      'reconcileJobsWorkflow',
      'simulationCatchUpWorkflow',
      'simulationWorkflow',
    ]);
  });

  it.each(files)('%s replays on the current code', async (file) => {
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load(file), file);
  });

  it('catches a nondeterministic change: a history whose recorded step differs from the code fails', async () => {
    const history = load(files.find((f) => f.startsWith('simulationWorkflow'))!);
    // As if the code had scheduled another activity at the first step than it did when recorded.
    const first = history.events.find((e: any) => e.activityTaskScheduledEventAttributes);
    first.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity';
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'edited'),
    ).rejects.toThrow(DeterminismViolationError);
  });
});
