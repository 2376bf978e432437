import type { z } from '@hono/zod-openapi';
import { ANALYSIS_LIFECYCLE } from '../../jobs/lifecycle.js';
import type { AnalysisJob } from '../../jobs/records.js';
import type { AnalysisDetailedStatus, AnalysisJobStatus } from '../responses.js';
import { NAMED_ARTIFACTS } from './runFiles.js';

const iso = (d: Date | undefined) => (d ? d.toISOString() : null);

export function analysisJobStatus(job: AnalysisJob, links: { webUi?: string } = {}): z.infer<typeof AnalysisJobStatus> {
  const a = job.analysis;
  const manifest = a.manifest;
  const result = manifest?.result;
  const paths = new Set(manifest?.files.map((f) => f.path) ?? []);
  const downloads = Object.fromEntries(
    [...NAMED_ARTIFACTS]
      .filter(([, p]) => paths.has(p(a.ticker)))
      .map(([name]) => [name, `/jobs/${job._id}/download/${name}`]),
  );
  const end = job.completedAt ?? (job.status === 'pending' ? undefined : new Date());
  return {
    job_id: job._id,
    kind: job.kind,
    owner: job.owner,
    status: job.status,
    ticker: a.ticker,
    company: a.company,
    pipeline: a.pipeline,
    date: a.asOf,
    query: a.query ?? null,
    llm: a.llm,
    sandbox: a.sandbox,
    batch_id: a.batchId ?? null,
    progress: a.stage ?? null,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    updated_at: iso(job.updatedAt),
    completed_at: iso(job.completedAt),
    run_time_s: job.startedAt && end ? Math.round((end.getTime() - job.startedAt.getTime()) / 100) / 10 : null,
    error: job.error ?? null,
    error_type: a.errorType ?? null,
    retryable: ANALYSIS_LIFECYCLE.isRetryable(job.status),
    retry_count: (a.runs ?? 1) - 1,
    previous_runs: (a.history ?? []).map((r) => ({
      run: r.run,
      status: r.status,
      error: r.error ?? null,
      error_type: r.errorType ?? null,
      started_at: iso(r.startedAt),
      completed_at: iso(r.completedAt),
    })),
    attempts: a.attempts ?? 0,
    result: result
      ? {
          decision: result.decision,
          rating: result.rating,
          confidence: result.confidence,
          last_close: result.lastClose,
          target_price: result.targetPrice ?? null,
          fair_value: result.fairValue ?? null,
          summary: result.summary,
        }
      : null,
    usage: a.usage
      ? {
          llm_calls: a.usage.calls,
          prompt_tokens: a.usage.promptTokens,
          completion_tokens: a.usage.completionTokens,
          cost_usd: Math.round(a.usage.costUsd * 1e6) / 1e6,
        }
      : null,
    files:
      manifest?.files.map((f) => ({
        path: f.path,
        kind: f.kind,
        size: f.size,
        sha256: f.sha256,
        url: `/jobs/${job._id}/files/${f.path}`,
      })) ?? [],
    links: {
      status: `/jobs/${job._id}`,
      stream: `/jobs/${job._id}/logs/stream`,
      logs: `/jobs/${job._id}/logs`,
      stop: `/jobs/${job._id}/stop`,
      retry: `/jobs/${job._id}/retry`,
      result: `/jobs/${job._id}/result`,
      all_results: `/jobs/${job._id}/download/all-results`,
      downloads,
      ...(links.webUi ? { temporal_ui: links.webUi } : {}),
    },
  };
}

/** The steps the pipeline reported, with their timings, and token/cost totals. */
export function analysisDetailedStatus(
  job: AnalysisJob,
  links: { webUi?: string } = {},
): z.infer<typeof AnalysisDetailedStatus> {
  const m = job.analysis.manifest;
  return {
    ...analysisJobStatus(job, links),
    steps:
      m?.steps.map((s) => ({
        step: s.id,
        started_at: s.startedAt,
        finished_at: s.finishedAt,
        duration_ms: s.durationMs,
      })) ?? [],
    exit_code: job.analysis.exitCode ?? null,
    first_output_ms: job.analysis.firstOutputMs ?? null,
    files_available: Object.fromEntries(
      [...NAMED_ARTIFACTS].map(([name, p]) => [name, m?.files.some((f) => f.path === p(job.analysis.ticker)) ?? false]),
    ),
  };
}
