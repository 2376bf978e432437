import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
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
import type { SandboxJob, SandboxOutcome, SandboxRunner } from '../sandbox/types.js';
import type { BarCache } from '../storage/barCache.js';
import type { JobEvents } from '../storage/jobEvents.js';
import type { JobStore } from '../storage/jobStore.js';
import type { AnalysisErrorType, JobDoc } from '../storage/types.js';
import { addDays } from '../trading/calendar.js';
import type { AnalysisOutcome, AnalysisRunOutcome } from '../workflows/definitions.js';

/** Calendar days of history handed to the pipeline: enough for 200-day averages and a year of returns. */
const HISTORY_DAYS = 420;
const HEARTBEAT_MS = 2_000;

export interface AnalysisActivityDeps {
  jobs: JobStore;
  events: JobEvents;
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
  job: JobDoc,
  models: ModelRegistry,
  env: NodeJS.ProcessEnv,
): { spec: LlmSpec; env: Record<string, string> } {
  const name = job.analysis!.llm;
  if (name === 'deterministic') return { spec: { mode: 'deterministic' }, env: {} };
  const model = models.get(name);
  if (model?.kind !== 'llm') {
    throw ApplicationFailure.nonRetryable(`model ${name} is not a configured LLM model`, 'AnalysisJobMissing');
  }
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

  async function prepareRunFolder(job: JobDoc, runDir: string): Promise<SandboxJob> {
    const a = job.analysis!;
    // A rerun (retry, or a worker lost mid-run) starts from an empty folder: no stale artifact survives.
    await rm(runDir, { recursive: true, force: true });
    await mkdir(join(runDir, INPUT_DIR), { recursive: true });
    const from = addDays(a.asOf, -HISTORY_DAYS);
    const symbols = a.ticker === d.benchmark ? [a.ticker] : [a.ticker, d.benchmark];
    await d.bars.prepare(symbols, from, a.asOf);
    const series = await d.bars.load(symbols, from, a.asOf);
    const main = series.get(a.ticker) ?? [];
    if (main.length === 0) {
      throw ApplicationFailure.nonRetryable(`no market data for ${a.ticker} up to ${a.asOf}`, 'MissingMarketData');
    }
    await writeFile(join(runDir, INPUT_DIR, 'bars.json'), JSON.stringify({ symbol: a.ticker, bars: main }));
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
  async function runAnalysisSandbox(input: { jobId: string; timeoutMs?: number }): Promise<AnalysisRunOutcome> {
    const ctx = Context.current();
    const job = await d.jobs.get(input.jobId);
    if (!job?.analysis) throw ApplicationFailure.nonRetryable(`no analysis job ${input.jobId}`, 'AnalysisJobMissing');
    const a = job.analysis;
    const attempt = ctx.info.attempt;
    const log = d.logger.child({ jobId: job._id, model: a.llm, date: a.asOf, ticker: a.ticker });
    // A stop may already have moved the job to `stopping`; that status stays.
    if (job.status === 'pending') await d.jobs.setStatus(job._id, 'running', { startedAt: new Date() });
    await d.jobs.updateAnalysis(job._id, { attempts: attempt, stage: 'preparing' });
    await d.events.append(
      job._id,
      'status',
      {
        status: 'running',
        message: attempt > 1 ? `attempt ${attempt}: preparing the run folder` : 'preparing the run folder',
      },
      `running|${a.runs ?? 1}|${attempt}`,
    );
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
        enqueue(() => d.events.append(job._id, 'log', { type: 'LOG', stream: 'stderr', message: line }));
        return;
      }
      let parsed: PipelineLogLine | null = null;
      try {
        const v = JSON.parse(line) as PipelineLogLine;
        if (v && (v.t === 'NL' || v.t === 'LOG') && typeof v.msg === 'string') parsed = v;
      } catch {
        // Not a contract line (e.g. a library printing to stdout): kept as a system line.
      }
      const data = parsed
        ? { type: parsed.t, message: parsed.msg, ...(parsed.step ? { step: parsed.step } : {}) }
        : { type: 'LOG', message: line };
      enqueue(() => d.events.append(job._id, 'log', data));
      if (parsed?.stage) {
        stage = parsed.stage;
        const current = stage;
        enqueue(async () => {
          await d.jobs.updateAnalysis(job._id, { stage: current });
          await d.events.append(job._id, 'status', { status: 'running', message: `STAGE: ${current}`, stage: current });
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
              d.events.append(job._id, 'log', {
                type: 'LOG',
                message: `sandbox ${d.runner.mode} ${sandboxId} started`,
              }),
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
      await d.events.append(job._id, 'log', {
        type: 'LOG',
        message: `sandbox stopped after ${result.durationMs} ms (exit ${result.exitCode ?? result.signal})`,
      });
      throw new CancelledFailure('stopped');
    }
    const manifest = await readManifest(runDir, job._id);
    const outcome = outcomeOf(result, manifest, limits.timeoutMs, limits.memoryMb);
    if (outcome.status === 'failed' && outcome.errorType === 'pipeline_error' && stderrTail.length && !manifest) {
      outcome.error = `${outcome.error}: ${stderrTail.slice(-3).join(' | ')}`;
    }
    if (outcome.status !== 'completed')
      log.error({ outcome, exitCode: result.exitCode }, 'analysis pipeline did not complete');
    await d.jobs.updateAnalysis(job._id, {
      stage,
      exitCode: result.exitCode,
      firstOutputMs: result.firstOutputMs,
      ...(manifest ? { manifest, usage: manifest.usage } : {}),
    });
    return outcome;
  }

  async function finishAnalysisJob(input: {
    jobId: string;
    status: AnalysisOutcome['status'];
    errorType?: string;
    error?: string;
  }): Promise<AnalysisOutcome> {
    const job = await d.jobs.get(input.jobId);
    if (!job?.analysis) throw ApplicationFailure.nonRetryable(`no analysis job ${input.jobId}`, 'AnalysisJobMissing');
    const errorType = (input.errorType ?? (input.status === 'llm_timeout' ? 'llm_timeout' : undefined)) as
      | AnalysisErrorType
      | undefined;
    const now = new Date();
    // The error type lands before the status: a client that sees the final status sees its reason too.
    await d.jobs.updateAnalysis(job._id, { stage: 'done', ...(errorType ? { errorType } : {}) });
    await d.jobs.setStatus(job._id, input.status, {
      completedAt: now,
      ...(input.error ? { error: input.error } : {}),
    });
    const result = job.analysis.manifest?.result;
    const files = job.analysis.manifest?.files.map((f) => f.path) ?? [];
    if (input.status === 'completed') {
      await d.events.append(
        job._id,
        'completed',
        {
          status: 'completed',
          message: result?.summary ?? 'analysis completed',
          ...(result
            ? { decision: result.decision, rating: result.rating, target_price: result.targetPrice ?? null }
            : {}),
          files,
        },
        `finished|${job.analysis.runs ?? 1}`,
      );
    } else if (input.status === 'stopped') {
      await d.events.append(
        job._id,
        'completed',
        { status: 'stopped', message: `Analysis stopped: ${input.error ?? 'by user'}` },
        `finished|${job.analysis.runs ?? 1}`,
      );
    } else {
      d.logger.error(
        { jobId: job._id, model: job.analysis.llm, date: job.analysis.asOf, errorType, err: input.error },
        'analysis job failed',
      );
      await d.events.append(
        job._id,
        'error',
        { status: input.status, error_type: errorType ?? null, message: input.error ?? input.status },
        `finished|${job.analysis.runs ?? 1}`,
      );
    }
    return { jobId: job._id, status: input.status, ...(input.error ? { error: input.error } : {}) };
  }

  return { runAnalysisSandbox, finishAnalysisJob };
}

export type AnalysisActivities = ReturnType<typeof createAnalysisActivities>;
