import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import {
  ANALYSIS_CONTRACT_VERSION,
  type AnalysisJobSpec,
  type AnalysisManifest,
  INPUT_DIR,
  JOB_SPEC_FILE,
  type LlmSpec,
  MANIFEST_FILE,
  PIPELINE_EXIT,
  type PipelineLogLine,
} from '../analysis/contract.js';
import { apiKeyFor, type ModelRegistry } from '../config/models.js';
import { jobEvents, type LogEventData } from '../jobs/events.js';
import { jobFailure } from '../jobs/failures.js';
import { ANALYSIS_LIFECYCLE } from '../jobs/lifecycle.js';
import { type AnalysisErrorType, type AnalysisJob, type AnalysisJobSeed, analysisJobRecord } from '../jobs/records.js';
import type { SandboxJob, SandboxOutcome, SandboxRunner } from '../sandbox/types.js';
import type { BarCache } from '../storage/barCache.js';
import type { JobEventLog } from '../storage/jobEvents.js';
import type { JobStore } from '../storage/jobStore.js';
import { addDays } from '../trading/calendar.js';
import type { AnalysisOutcome, AnalysisRunOutcome } from '../workflows/definitions.js';
import { createJobRecorder } from './jobRecorder.js';

/** Calendar days of history handed to the pipeline: enough for 200-day averages and a year of returns. */
const HISTORY_DAYS = 420;
const HEARTBEAT_MS = 2_000;

export interface AnalysisActivityDeps {
  jobs: JobStore;
  events: JobEventLog;
  bars: BarCache;
  models: ModelRegistry;
  runner: SandboxRunner;
  dataDir: string;
  limits: { memoryMb: number; cpus: number; timeoutMs: number };
  network: string | null;
  benchmark: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

function llmSpecFor(
  job: AnalysisJob,
  models: ModelRegistry,
  env: NodeJS.ProcessEnv,
): { spec: LlmSpec; env: Record<string, string> } {
  const name = job.analysis.llm;
  if (name === 'deterministic') return { spec: { mode: 'deterministic' }, env: {} };
  const model = models.get(name);
  if (model?.kind !== 'llm') throw jobFailure('UnknownModel', `model ${name} is not a configured LLM model`);
  // The key travels as an environment variable of the sandbox only, never in job.json.
  const key = apiKeyFor(model, env);
  return {
    spec: {
      mode: 'openai',
      name: model.id,
      model: model.model,
      baseURL: model.baseUrl,
      apiKeyEnv: 'TRADEFLOW_LLM_API_KEY',
      requestTimeoutMs: model.timeoutMs,
      ...(model.pricing ? { pricing: model.pricing } : {}),
    },
    env: { TRADEFLOW_LLM_API_KEY: key },
  };
}

/** Maps how the sandbox ended to the job's status: the exit code and the manifest decide, never log text. */
export function outcomeOf(
  result: SandboxOutcome,
  manifest: AnalysisManifest | null,
  timeoutMs: number,
  memoryMb: number,
): AnalysisRunOutcome {
  const fail = (errorType: AnalysisErrorType, error: string): AnalysisRunOutcome => ({
    status: 'failed',
    errorType,
    error,
  });
  if (result.timedOut)
    return fail(
      'timeout',
      `the pipeline ran longer than the job's ${Math.round(timeoutMs / 1000)} s limit and was killed`,
    );
  if (result.oomKilled) return fail('oom', `the pipeline ran out of memory (limit ${memoryMb} MiB) and was killed`);
  if (result.exitCode === PIPELINE_EXIT.completed && manifest?.status === 'completed') return { status: 'completed' };
  if (result.exitCode === PIPELINE_EXIT.llmTimeout && manifest?.status === 'llm_timeout') {
    return {
      status: 'llm_timeout',
      errorType: 'llm_timeout',
      error: manifest.error?.message ?? 'LLM provider timed out',
    };
  }
  if (manifest?.error) {
    const type: AnalysisErrorType =
      manifest.error.kind === 'NotEnoughHistory'
        ? 'data_error'
        : manifest.error.kind === 'LlmRequestError'
          ? 'llm_error'
          : 'pipeline_error';
    return fail(type, `${manifest.error.kind}: ${manifest.error.message}`);
  }
  if (result.exitCode === 0) return fail('pipeline_error', 'the pipeline exited 0 without a completed manifest');
  return fail(
    'pipeline_error',
    result.signal ? `the pipeline was killed by ${result.signal}` : `the pipeline exited with code ${result.exitCode}`,
  );
}

export function createAnalysisActivities(d: AnalysisActivityDeps) {
  const env = d.env ?? process.env;
  const recorder = createJobRecorder(d);

  async function prepareRunFolder(job: AnalysisJob, runDir: string): Promise<SandboxJob> {
    const a = job.analysis;
    // A rerun (retry, or a worker lost mid-run) starts from an empty folder: no stale artifact survives.
    await rm(runDir, { recursive: true, force: true });
    await mkdir(join(runDir, INPUT_DIR), { recursive: true });
    const from = addDays(a.asOf, -HISTORY_DAYS);
    const symbols = a.ticker === d.benchmark ? [a.ticker] : [a.ticker, d.benchmark];
    await d.bars.prepare(symbols, from, a.asOf);
    const series = await d.bars.load(symbols, from, a.asOf);
    const main = series.get(a.ticker) ?? [];
    if (main.length === 0) {
      throw jobFailure('MissingMarketData', `no market data for ${a.ticker} up to ${a.asOf}`);
    }
    await writeFile(
      join(runDir, INPUT_DIR, 'bars.json'),
      JSON.stringify({ symbol: a.ticker, bars: main, source: d.bars.sourceName }),
    );
    const bench = series.get(d.benchmark);
    if (bench?.length && a.ticker !== d.benchmark) {
      await writeFile(join(runDir, INPUT_DIR, 'benchmark.json'), JSON.stringify({ symbol: d.benchmark, bars: bench }));
    }
    const llm = llmSpecFor(job, d.models, env);
    const spec: AnalysisJobSpec = {
      version: ANALYSIS_CONTRACT_VERSION,
      jobId: job._id,
      owner: job.owner,
      ticker: a.ticker,
      company: a.company,
      pipeline: a.pipeline,
      asOf: a.asOf,
      ...(a.query ? { query: a.query } : {}),
      analysts: a.analysts,
      debateRounds: a.debateRounds,
      riskRounds: a.riskRounds,
      llm: llm.spec,
      inputs: {
        bars: `${INPUT_DIR}/bars.json`,
        ...(bench?.length && a.ticker !== d.benchmark ? { benchmark: `${INPUT_DIR}/benchmark.json` } : {}),
      },
    };
    await writeFile(join(runDir, JOB_SPEC_FILE), JSON.stringify(spec, null, 2));
    return {
      jobId: job._id,
      runDir,
      env: llm.env,
      limits: d.limits,
      network: llm.spec.mode === 'openai' ? d.network : null,
    };
  }

  async function readManifest(runDir: string, jobId: string): Promise<AnalysisManifest | null> {
    try {
      const m = JSON.parse(await readFile(join(runDir, MANIFEST_FILE), 'utf8')) as AnalysisManifest;
      return m.version === ANALYSIS_CONTRACT_VERSION && m.jobId === jobId ? m : null;
    } catch {
      return null;
    }
  }

  /**
   * Runs the pipeline in the sandbox and streams its output into the job's event log. Heartbeats carry
   * the cancellation: a stop aborts the sandbox (SIGTERM, grace, kill) and this activity ends cancelled.
   */
  async function runAnalysisSandbox(input: {
    jobId: string;
    /** Absent in workflows started before runs were passed: the job's current run. */
    run?: number;
    timeoutMs?: number;
  }): Promise<AnalysisRunOutcome> {
    const ctx = Context.current();
    const job = await analysisJob(input.jobId);
    const a = job.analysis;
    const run = input.run ?? a.runs;
    const attempt = ctx.info.attempt;
    const log = d.logger.child({ jobId: job._id, model: a.llm, date: a.asOf, ticker: a.ticker, run });
    // A stop may already have moved the job to `stopping`; the lifecycle keeps it there.
    await recorder.move('analysis', job._id, 'running', {
      run,
      fields: { startedAt: new Date() },
      event: jobEvents.running(
        run,
        attempt,
        attempt > 1 ? `attempt ${attempt}: preparing the run folder` : 'preparing the run folder',
      ),
    });
    // Only a run that owns the job starts its sandbox: never one whose job already ended or ran again.
    const now = await analysisJob(job._id);
    if (now.analysis.runs !== run || !ANALYSIS_LIFECYCLE.isActive(now.status)) {
      throw jobFailure(
        'JobMissing',
        `run ${run} of job ${job._id} is over: the job is ${now.status} in run ${now.analysis.runs}`,
      );
    }
    await d.jobs.updateAnalysis(job._id, run, { attempts: attempt, stage: 'preparing' });
    const runDir = join(d.dataDir, a.runDir);
    const limits = { ...d.limits, ...(input.timeoutMs ? { timeoutMs: input.timeoutMs } : {}) };
    const sandboxJob = { ...(await prepareRunFolder(job, runDir)), limits };

    // Events are appended in order, one at a time; the sandbox's output is never blocked by them.
    let chain: Promise<unknown> = Promise.resolve();
    let stage = 'preparing';
    const enqueue = (f: () => Promise<unknown>) => {
      chain = chain.then(f).catch((err) => log.error({ err }, 'could not record a pipeline event'));
    };
    const stderrTail: string[] = [];
    const onLine = (line: string, stream: 'stdout' | 'stderr') => {
      if (stream === 'stderr') {
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        enqueue(() => d.events.append(job._id, jobEvents.log({ type: 'LOG', stream: 'stderr', message: line })));
        return;
      }
      let parsed: PipelineLogLine | null = null;
      try {
        const v = JSON.parse(line) as PipelineLogLine;
        if (v && (v.t === 'NL' || v.t === 'LOG') && typeof v.msg === 'string') parsed = v;
      } catch {
        // Not a contract line (e.g. a library printing to stdout): kept as a system line.
      }
      const data: LogEventData = parsed
        ? { type: parsed.t, message: parsed.msg, ...(parsed.step ? { step: parsed.step } : {}) }
        : { type: 'LOG', message: line };
      enqueue(() => d.events.append(job._id, jobEvents.log(data)));
      if (parsed?.stage) {
        stage = parsed.stage;
        const current = stage;
        enqueue(async () => {
          await d.jobs.updateAnalysis(job._id, run, { stage: current });
          await d.events.append(job._id, jobEvents.stage(current));
        });
      }
      ctx.heartbeat({ stage });
    };

    const abort = new AbortController();
    const onCancel = () => abort.abort();
    ctx.cancellationSignal.addEventListener('abort', onCancel);
    const beat = setInterval(() => ctx.heartbeat({ stage }), HEARTBEAT_MS);
    let result: SandboxOutcome;
    try {
      result = await d.runner.run(
        sandboxJob,
        {
          onLine,
          onStarted: ({ sandboxId }) => {
            log.info({ sandboxId, mode: d.runner.mode }, 'sandbox started');
            enqueue(() =>
              d.events.append(
                job._id,
                jobEvents.log({ type: 'LOG', message: `sandbox ${d.runner.mode} ${sandboxId} started` }),
              ),
            );
          },
        },
        abort.signal,
      );
    } catch (err) {
      log.error({ err }, 'sandbox could not run');
      throw err;
    } finally {
      clearInterval(beat);
      ctx.cancellationSignal.removeEventListener('abort', onCancel);
      await chain;
    }
    if (result.stopped) {
      await d.events.append(
        job._id,
        jobEvents.log({
          type: 'LOG',
          message: `sandbox stopped after ${result.durationMs} ms (exit ${result.exitCode ?? result.signal})`,
        }),
      );
      throw new CancelledFailure('stopped');
    }
    const manifest = await readManifest(runDir, job._id);
    const outcome = outcomeOf(result, manifest, limits.timeoutMs, limits.memoryMb);
    if (outcome.status === 'failed' && outcome.errorType === 'pipeline_error' && stderrTail.length && !manifest) {
      outcome.error = `${outcome.error}: ${stderrTail.slice(-3).join(' | ')}`;
    }
    if (outcome.status !== 'completed')
      log.error({ outcome, exitCode: result.exitCode }, 'analysis pipeline did not complete');
    await d.jobs.updateAnalysis(job._id, run, {
      stage,
      exitCode: result.exitCode,
      firstOutputMs: result.firstOutputMs,
      ...(manifest ? { manifest, usage: manifest.usage } : {}),
    });
    return outcome;
  }

  async function finishAnalysisJob(input: {
    jobId: string;
    run?: number;
    status: AnalysisOutcome['status'];
    errorType?: AnalysisErrorType;
    error?: string;
  }): Promise<AnalysisOutcome> {
    const job = await analysisJob(input.jobId);
    const run = input.run ?? job.analysis.runs;
    const errorType = input.errorType ?? (input.status === 'llm_timeout' ? 'llm_timeout' : undefined);
    await d.jobs.updateAnalysis(job._id, run, { stage: 'done' });
    const result = job.analysis.manifest?.result;
    const files = job.analysis.manifest?.files.map((f) => f.path) ?? [];
    const failed = input.status !== 'completed' && input.status !== 'stopped';
    if (failed) {
      d.logger.error(
        { jobId: job._id, model: job.analysis.llm, date: job.analysis.asOf, run, errorType, err: input.error },
        'analysis job failed',
      );
    }
    const event = jobEvents.finished(
      run,
      input.status === 'completed'
        ? {
            status: 'completed',
            message: result?.summary ?? 'analysis completed',
            ...(result
              ? { decision: result.decision, rating: result.rating, target_price: result.targetPrice ?? null }
              : {}),
            files,
          }
        : input.status === 'stopped'
          ? { status: 'stopped', message: `Analysis stopped: ${input.error ?? 'by user'}` }
          : { status: input.status, error_type: errorType ?? null, message: input.error ?? input.status },
      failed,
    );
    // The error type lands with the status, in one write: a client that sees the end sees its reason.
    await recorder.move('analysis', job._id, input.status, {
      run,
      fields: {
        completedAt: new Date(),
        ...(input.error ? { error: input.error } : {}),
        ...(errorType ? { errorType } : {}),
      },
      event,
    });
    return { jobId: job._id, status: input.status, ...(input.error ? { error: input.error } : {}) };
  }

  /**
   * Opens run `run` of a job before its sandbox is queued: the first run writes the job's record if the
   * API could not, a later run (a retry) moves the ended job back to pending, keeping the ended run in
   * its history. Either way the run's `accepted` event tells the job's streams.
   */
  async function beginAnalysisRun(input: {
    jobId: string;
    owner: string;
    run: number;
    seed: AnalysisJobSeed;
  }): Promise<void> {
    if (input.run === 1) {
      await d.jobs.insertIfAbsent(analysisJobRecord(input));
    } else if (
      !(await d.jobs.rerun(input.jobId, input.run, Context.current().info.workflowExecution?.runId ?? input.jobId))
    ) {
      // Another workflow run opened it (two retries at once), or the job is not in a state to run again.
      const job = await analysisJob(input.jobId);
      throw jobFailure(
        'JobMissing',
        `job ${input.jobId} cannot start run ${input.run}: it is ${job.status} in run ${job.analysis.runs}`,
      );
    }
    await d.events.append(
      input.jobId,
      jobEvents.accepted(input.run, input.run === 1 ? 'Analysis queued' : `retry ${input.run - 1} queued`),
    );
  }

  async function analysisJob(jobId: string): Promise<AnalysisJob> {
    const job = await d.jobs.get(jobId);
    if (job?.kind !== 'analysis') throw jobFailure('JobMissing', `no analysis job ${jobId}`);
    return job;
  }

  return { beginAnalysisRun, runAnalysisSandbox, finishAnalysisJob };
}

export type AnalysisActivities = ReturnType<typeof createAnalysisActivities>;
