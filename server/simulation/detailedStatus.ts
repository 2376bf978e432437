import type { z } from '@hono/zod-openapi';
import type { ModelRegistry } from '../../config/models.js';
import type { SimulationJob } from '../../jobs/records.js';
import type { ModelDayDoc } from '../../storage/types.js';
import type { SimulationDetailedStatus } from '../responses.js';

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Dollars for a token count at a model's configured prices; null when the model has none. */
function costOf(models: ModelRegistry, model: string, prompt: number, completion: number): number | null {
  const spec = models.get(model);
  if (spec?.kind !== 'llm') return spec ? 0 : null;
  if (!spec.pricing) return null;
  return round((prompt * spec.pricing.promptPerMillion + completion * spec.pricing.completionPerMillion) / 1e6, 6);
}

/** Per-model steps, timings and token/cost totals of a job, for `GET /jobs/{id}/status/detailed`. */
export function simulationDetailedStatus(
  job: SimulationJob,
  days: readonly ModelDayDoc[],
  models: ModelRegistry,
): z.infer<typeof SimulationDetailedStatus> {
  const perModel = job.models.map((model) => {
    const mine = days.filter((d) => d.model === model);
    const ran = mine.filter((d) => d.durationMs !== undefined);
    const tokens = mine.reduce(
      (t, d) => ({
        calls: t.calls + (d.tokenUsage?.calls ?? 0),
        prompt: t.prompt + (d.tokenUsage?.promptTokens ?? 0),
        completion: t.completion + (d.tokenUsage?.completionTokens ?? 0),
      }),
      { calls: 0, prompt: 0, completion: 0 },
    );
    const phases: Record<string, number> = {};
    const timed = ran.filter((d) => d.phasesMs);
    for (const d of timed) for (const [k, v] of Object.entries(d.phasesMs ?? {})) phases[k] = (phases[k] ?? 0) + v;
    return {
      model,
      days: {
        completed: mine.filter((d) => d.status === 'completed').length,
        failed: mine.filter((d) => d.status === 'failed').length,
        skipped: mine.filter((d) => d.status === 'skipped').length,
        stopped: mine.filter((d) => d.status === 'stopped').length,
      },
      seconds: {
        total: round(ran.reduce((n, d) => n + (d.durationMs ?? 0), 0) / 1000),
        mean_per_day: ran.length ? round(ran.reduce((n, d) => n + (d.durationMs ?? 0), 0) / ran.length / 1000) : null,
        per_phase_mean: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v / timed.length / 1000)])),
      },
      tokens: {
        calls: tokens.calls,
        prompt: tokens.prompt,
        completion: tokens.completion,
        total: tokens.prompt + tokens.completion,
      },
      cost_usd: costOf(models, model, tokens.prompt, tokens.completion),
      last_error: mine.filter((d) => d.status === 'failed' && d.error).at(-1)?.error ?? null,
    };
  });
  const costs = perModel.map((m) => m.cost_usd);
  return {
    job_id: job._id,
    kind: job.kind,
    status: job.status,
    steps: [
      { step: 'accepted', at: job.createdAt.toISOString() },
      ...(job.startedAt ? [{ step: 'running', at: job.startedAt.toISOString() }] : []),
      ...(job.completedAt ? [{ step: job.status, at: job.completedAt.toISOString() }] : []),
    ],
    timings: {
      queued_seconds: job.startedAt ? round((job.startedAt.getTime() - job.createdAt.getTime()) / 1000) : null,
      running_seconds: job.startedAt
        ? round(((job.completedAt ?? new Date()).getTime() - job.startedAt.getTime()) / 1000)
        : null,
    },
    models: perModel,
    totals: {
      model_days: job.totalModelDays,
      tokens: perModel.reduce((n, m) => n + m.tokens.total, 0),
      llm_calls: perModel.reduce((n, m) => n + m.tokens.calls, 0),
      // Unknown when any LLM model has no prices configured.
      cost_usd: costs.some((c) => c === null)
        ? null
        : round(
            costs.reduce((n: number, c) => n + (c ?? 0), 0),
            6,
          ),
    },
  };
}
