import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { modelDayActivities } from '../../test/support/modelDayActivities.js';
import { NO_TOKENS } from '../../trading/agents/types.js';
import type { Bar } from '../../trading/bars.js';
import type { ComputedDate } from './activities.js';

// A date's model-days in one activity, over stub stores and a scripted agent: which models run, how
// often, and what an attempt after a crash skips.

const bar = (date: string, close: number): Bar => ({ date, open: close, high: close, low: close, close, volume: 1 });
const SERIES = new Map([['AAPL', [bar('2025-03-03', 10), bar('2025-03-04', 11)]]]);
const MODELS = ['alpha', 'beta', 'gamma'];

function setUp(agentFails: (model: string, call: number) => Error | undefined) {
  const calls: string[] = [];
  const activities = modelDayActivities({
    bars: SERIES,
    models: { initial_cash: 1000, models: MODELS.map((id) => ({ id, strategy: 'buy-and-hold' })) },
    agents: (spec: { id: string }) => ({
      run: async () => {
        calls.push(spec.id);
        const err = agentFails(spec.id, calls.filter((c) => c === spec.id).length);
        if (err) throw err;
        return { steps: [], tokenUsage: NO_TOKENS, summary: 'held', finished: true };
      },
    }),
  });
  const input = {
    jobId: 'job-1',
    owner: 'local',
    date: '2025-03-04',
    symbols: ['AAPL'],
    models: MODELS.map((model) => ({ model, start: null })),
    maxAttempts: 2,
  };
  return { activities, input, calls };
}

function environment(heartbeatDetails?: unknown) {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? undefined : { heartbeatDetails }, {
    logger: new DefaultLogger('ERROR'),
  });
  const beats: any[] = [];
  env.on('heartbeat', (d) => beats.push(d));
  return { env, beats };
}

describe('computeDate', () => {
  it("runs every model of the date, and heartbeats each one's result as it finishes", async () => {
    const { activities, input, calls } = setUp(() => undefined);
    const { env, beats } = environment();
    const r = (await env.run(activities.computeDate, input)) as ComputedDate;
    expect(r.days.map((d) => d.model)).toEqual(MODELS);
    expect(r.failures).toEqual([]);
    expect(calls.sort()).toEqual(MODELS);
    const last = beats.at(-1);
    expect(Object.keys(last.done).sort()).toEqual(MODELS);
    expect(last.done.alpha.value.day.endingPosition.portfolioValue).toBe(1000);
  });

  it('an attempt after a crash runs only the models the last one had not finished', async () => {
    const first = setUp(() => undefined);
    const { env, beats } = environment();
    await env.run(first.activities.computeDate, { ...first.input, models: first.input.models.slice(0, 2) });
    const finished = beats.at(-1);
    // The retried attempt gets the dead attempt's last heartbeat: alpha and beta were done.
    const retry = setUp(() => undefined);
    const again = environment(finished);
    const r = (await again.env.run(retry.activities.computeDate, retry.input)) as ComputedDate;
    expect(retry.calls).toEqual(['gamma']);
    expect(r.days.map((d) => d.model)).toEqual(MODELS);
  });

  it("an agent's error costs only its model an attempt; one failing for good is reported, not thrown", async () => {
    const { activities, input, calls } = setUp((model, call) =>
      model === 'beta'
        ? new Error(`provider down (${call})`)
        : model === 'gamma' && call === 1
          ? new Error('blip')
          : undefined,
    );
    const { env } = environment();
    const r = (await env.run(activities.computeDate, input)) as ComputedDate;
    expect(r.days.map((d) => d.model)).toEqual(['alpha', 'gamma']);
    expect(r.failures).toEqual([{ model: 'beta', error: 'provider down (2)' }]);
    expect(calls.filter((c) => c === 'beta')).toHaveLength(2);
    expect(r.days.find((d) => d.model === 'gamma')?.attempt).toBe(2);
  }, 20_000);
});
