// What every JobStore must do, run against the in-memory store (unit) and MongoDB/FerretDB (e2e), so
// the fast layer's stand-in cannot drift from the real one.
import { describe, expect, it } from 'vitest';
import { type AnalysisJob, analysisJobRecord, type SimulationJob, simulationJobRecord } from '../../jobs/records.js';
import type { JobStore } from '../../storage/jobStore.js';

let n = 0;
const id = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++n}`;

export function simulationJob(overrides: Partial<SimulationJob> = {}): SimulationJob {
  return {
    ...simulationJobRecord({
      jobId: id('sim'),
      owner: 'local',
      models: ['m1'],
      symbols: ['AAPL'],
      dates: ['2025-03-03', '2025-03-04'],
      modelStart: { m1: 0 },
      seed: { idempotencyKey: id('key'), request: {}, createdAt: new Date().toISOString() },
    }),
    ...overrides,
  };
}

export function analysisJob(overrides: Partial<AnalysisJob> = {}): AnalysisJob {
  const jobId = id('an');
  return {
    ...analysisJobRecord({
      jobId,
      owner: 'local',
      seed: {
        spec: {
          ticker: 'AAPL',
          company: 'Apple',
          pipeline: 'comprehensive',
          asOf: '2025-06-02',
          analysts: ['market'],
          debateRounds: 1,
          riskRounds: 1,
          llm: 'deterministic',
          sandbox: 'process',
          runDir: `analysis/local/AAPL/2025-06-02_${jobId}`,
        },
        request: { ticker: 'AAPL' },
        createdAt: new Date().toISOString(),
      },
    }),
    ...overrides,
  };
}

export function jobStoreContract(name: string, store: () => JobStore) {
  describe(`JobStore contract: ${name}`, () => {
    it('writes a new record once: a second write of the same job changes nothing', async () => {
      const s = store();
      const job = simulationJob();
      expect(await s.insertIfAbsent(job)).toBe(true);
      await s.transition('simulation', job._id, 'running');
      expect(await s.insertIfAbsent(job)).toBe(false);
      expect((await s.get(job._id))?.status).toBe('running');
    });

    it('moves a job only along its lifecycle, and never out of a final status', async () => {
      const s = store();
      const job = simulationJob();
      await s.insertIfAbsent(job);
      expect(await s.transition('simulation', job._id, 'completed')).toBe(false);
      expect(await s.transition('simulation', job._id, 'running', { startedAt: new Date() })).toBe(true);
      expect(await s.transition('simulation', job._id, 'partial', { error: '1 model-day(s) failed' })).toBe(true);
      for (const to of ['running', 'stopping', 'completed', 'failed', 'stopped'] as const) {
        expect(await s.transition('simulation', job._id, to)).toBe(false);
      }
      const stored = await s.get(job._id);
      expect(stored).toMatchObject({ status: 'partial', error: '1 model-day(s) failed' });
      expect(stored?.startedAt).toBeInstanceOf(Date);
    });

    it('lets exactly one of two racing final moves win', async () => {
      const s = store();
      const job = analysisJob();
      await s.insertIfAbsent(job);
      await s.transition('analysis', job._id, 'running');
      const [a, b] = await Promise.all([
        s.transition('analysis', job._id, 'completed', { completedAt: new Date() }),
        s.transition('analysis', job._id, 'failed', { error: 'boom', errorType: 'pipeline_error' }),
      ]);
      expect([a, b].filter(Boolean)).toHaveLength(1);
      const stored = (await s.get(job._id)) as AnalysisJob;
      expect(stored.status).toBe(a ? 'completed' : 'failed');
      expect(stored.analysis.errorType).toBe(a ? undefined : 'pipeline_error');
    });

    it('keeps kinds apart and a run to its own moves', async () => {
      const s = store();
      const sim = simulationJob();
      const an = analysisJob();
      await s.insertIfAbsent(sim);
      await s.insertIfAbsent(an);
      expect(await s.transition('analysis', sim._id, 'running')).toBe(false);
      expect(await s.transition('analysis', an._id, 'running', {}, 2)).toBe(false);
      expect(await s.transition('analysis', an._id, 'running', {}, 1)).toBe(true);
      await s.updateAnalysis(an._id, 2, { stage: 'from another run' });
      await s.updateAnalysis(an._id, 1, { stage: 'debate' });
      expect(((await s.get(an._id)) as AnalysisJob).analysis.stage).toBe('debate');
    });

    it('runs an ended analysis again as its next run, keeping the ended run in its history', async () => {
      const s = store();
      const job = analysisJob();
      await s.insertIfAbsent(job);
      await s.transition('analysis', job._id, 'running', { startedAt: new Date() });
      expect(await s.rerun(job._id, 2, 'wf-a')).toBe(false);
      await s.transition('analysis', job._id, 'llm_timeout', { error: 'provider timed out', errorType: 'llm_timeout' });
      expect(await s.rerun(job._id, 3, 'wf-a')).toBe(false);
      expect(await s.rerun(job._id, 2, 'wf-a')).toBe(true);
      // The same opener again (a retried activity) is told yes; anyone else no.
      expect(await s.rerun(job._id, 2, 'wf-a')).toBe(true);
      expect(await s.rerun(job._id, 2, 'wf-b')).toBe(false);
      const again = (await s.get(job._id)) as AnalysisJob;
      expect(again.status).toBe('pending');
      expect(again.error).toBeUndefined();
      expect(again.startedAt).toBeUndefined();
      expect(again.analysis).toMatchObject({ runs: 2, stage: 'queued' });
      expect(again.analysis.errorType).toBeUndefined();
      expect(again.analysis.history).toEqual([
        expect.objectContaining({
          run: 1,
          status: 'llm_timeout',
          error: 'provider timed out',
          errorType: 'llm_timeout',
        }),
      ]);
      // The previous run can no longer move the job.
      expect(await s.transition('analysis', job._id, 'failed', {}, 1)).toBe(false);
      await s.transition('analysis', job._id, 'running', {}, 2);
      await s.transition('analysis', job._id, 'completed', {}, 2);
      expect(await s.rerun(job._id, 3, 'wf-c')).toBe(false);
      expect((await s.get(job._id))?.status).toBe('completed');
    });

    it('opens a run for exactly one of many racing openers', async () => {
      const s = store();
      const job = analysisJob();
      await s.insertIfAbsent(job);
      await s.transition('analysis', job._id, 'running');
      await s.transition('analysis', job._id, 'stopped');
      const opened = await Promise.all(Array.from({ length: 6 }, (_, i) => s.rerun(job._id, 2, `wf-${i}`)));
      expect(opened.filter(Boolean)).toHaveLength(1);
      expect(((await s.get(job._id)) as AnalysisJob).analysis.history).toHaveLength(1);
    });

    it('ends a job exactly once however its end and other moves race', async () => {
      const s = store();
      for (let round = 0; round < 5; round++) {
        const job = analysisJob();
        await s.insertIfAbsent(job);
        await s.transition('analysis', job._id, 'running');
        const moves = await Promise.all([
          s.transition('analysis', job._id, 'stopping'),
          s.transition('analysis', job._id, 'completed', { completedAt: new Date() }),
          s.transition('analysis', job._id, 'failed', { error: 'boom' }),
          s.transition('analysis', job._id, 'stopping'),
        ]);
        expect(moves[1] !== moves[2]).toBe(true);
        const stored = (await s.get(job._id)) as AnalysisJob;
        expect(stored.status).toBe(moves[1] ? 'completed' : 'failed');
        expect(stored.error).toBe(moves[1] ? undefined : 'boom');
      }
    });

    it('marks only model-days that have not ended', async () => {
      const s = store();
      const job = simulationJob();
      await s.setModelDay(job._id, 'm1', '2025-03-03', 'completed', { durationMs: 5 });
      await s.setModelDay(job._id, 'm1', '2025-03-04', 'running');
      await s.markModelDaysMany(
        job._id,
        [
          { model: 'm1', date: '2025-03-03' },
          { model: 'm1', date: '2025-03-04' },
          { model: 'm1', date: '2025-03-05' },
        ],
        'stopped',
        'job stopped',
      );
      const days = await s.modelDays(job._id);
      expect(days.map((d) => [d.date, d.status])).toEqual([
        ['2025-03-03', 'completed'],
        ['2025-03-04', 'stopped'],
        ['2025-03-05', 'stopped'],
      ]);
    });

    it('lists by owner, kind, status and model, newest first', async () => {
      const s = store();
      const owner = id('owner');
      const older = simulationJob({ owner, createdAt: new Date(Date.now() - 1000) });
      const newer = analysisJob({ owner });
      await s.insertIfAbsent(older);
      await s.insertIfAbsent(newer);
      expect((await s.list({ owner }, 10, 0)).jobs.map((j) => j._id)).toEqual([newer._id, older._id]);
      expect((await s.list({ owner, kind: 'simulation' }, 10, 0)).total).toBe(1);
      expect((await s.list({ owner, model: 'deterministic' }, 10, 0)).jobs[0]?._id).toBe(newer._id);
      expect((await s.latest(owner, 'simulation'))?._id).toBe(older._id);
    });

    it("counts an owner's jobs in any of several statuses at once", async () => {
      const s = store();
      const owner = id('owner');
      await s.insertIfAbsent(simulationJob({ owner, status: 'running' }));
      await s.insertIfAbsent(analysisJob({ owner, status: 'pending' }));
      await s.insertIfAbsent(simulationJob({ owner, status: 'completed' }));
      await s.insertIfAbsent(simulationJob({ owner: id('other'), status: 'running' }));
      expect(await s.countInStatuses(owner, ['running', 'pending', 'stopping'])).toBe(2);
      expect(await s.countInStatuses(owner, ['completed'])).toBe(1);
      expect(await s.countInStatuses(owner, [])).toBe(0);
    });
  });
}
