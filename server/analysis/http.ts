import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { withJobCapacity } from '../auth/jobCap.js';
import { checkedCallbackUrl } from '../callbackUrl.js';
import { type AppDeps, type AppEnv, listOwner, workflowUiLink } from '../context.js';
import { ANALYSIS_START_ERRORS, ApiError, errorResponses } from '../http/errors.js';
import { validationHook } from '../http/validation.js';
import { BatchStatus, RunAccepted, RunBatchAccepted } from '../responses.js';
import { IdempotencyKey, RunAnalysisBody } from '../schemas.js';
import { analysisJobStatus } from './presenter.js';
import type { AnalysisRequest } from './service.js';

const run = createRoute({
  method: 'post',
  path: '/run',
  summary: 'Start an analysis of one ticker, or a batch (`tickers`) as child workflows',
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKey }),
    body: { required: true, content: { 'application/json': { schema: RunAnalysisBody } } },
  },
  responses: {
    202: {
      description: 'the job, or for a batch its `batch_id`, `job_ids` and `jobs`',
      content: { 'application/json': { schema: z.union([RunAccepted, RunBatchAccepted]) } },
    },
    200: {
      description: 'the job (or batch) an earlier request with the same `Idempotency-Key` and body started',
      content: { 'application/json': { schema: z.union([RunAccepted, RunBatchAccepted]) } },
    },
    ...ANALYSIS_START_ERRORS,
  },
});

const batch = createRoute({
  method: 'get',
  path: '/batches/{batchId}',
  summary: 'A batch’s jobs and counts per status',
  request: { params: z.object({ batchId: z.string().min(1).max(200) }) },
  responses: {
    200: { description: 'batch', content: { 'application/json': { schema: BatchStatus } } },
    ...errorResponses('not_found'),
  },
});

/** What these routes use of the app's dependencies. */
export type AnalysisHttpDeps = Pick<
  AppDeps,
  'admission' | 'analyses' | 'auth' | 'jobs' | 'namespace' | 'temporalUiUrl' | 'webhooks'
>;

/** `POST /run` (api-runner's analysis jobs) and its batches. */
export function runRoutes(deps: AnalysisHttpDeps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.openapi(run, async (c) => {
    const body = c.req.valid('json');
    const callbackUrl = checkedCallbackUrl(body.callback_url, deps.webhooks?.allow);
    const tickers = body.tickers ?? [body.ticker!];
    const requests: AnalysisRequest[] = [...new Set(tickers)].map((ticker) => ({
      ticker,
      ...(body.company && tickers.length === 1 ? { company: body.company } : {}),
      pipeline: body.pipeline,
      ...(body.date ? { date: body.date } : {}),
      ...(body.query ? { query: body.query } : {}),
      llm: body.llm,
      ...(body.analysts ? { analysts: body.analysts } : {}),
      debateRounds: body.debate_rounds,
      riskRounds: body.risk_rounds,
      ...(body.timeout_s ? { timeoutS: body.timeout_s } : {}),
      ...(callbackUrl ? { callbackUrl } : {}),
      raw: body,
    }));
    const { jobs, batchId, existing } = await withJobCapacity(deps, c.get('owner'), requests.length, () =>
      deps.analyses.start(c.get('owner'), requests, c.req.valid('header')['idempotency-key']),
    );
    const present = (j: (typeof jobs)[number]) => ({
      ...analysisJobStatus(j, { webUi: workflowUiLink(deps, j.workflowId) }),
      message: existing ? 'the same analysis was already requested: this is that job' : 'Analysis queued',
    });
    const answer = batchId
      ? {
          batch_id: batchId,
          total_jobs: jobs.length,
          job_ids: jobs.map((j) => j._id),
          status: 'pending' as const,
          jobs: jobs.map(present),
        }
      : present(jobs[0]!);
    return existing ? c.json(answer, 200) : c.json(answer, 202);
  });

  app.openapi(batch, async (c) => {
    const { batchId } = c.req.valid('param');
    const owner = listOwner(c);
    const { jobs } = await deps.jobs.list(
      { ...(owner !== undefined ? { owner } : {}), kind: 'analysis', batchId },
      200,
      0,
    );
    if (jobs.length === 0) throw new ApiError('not_found', `no batch ${batchId}`);
    const counts = new Map<string, number>();
    for (const j of jobs) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
    return c.json(
      {
        batch_id: batchId,
        total_jobs: jobs.length,
        counts: Object.fromEntries(counts),
        jobs: jobs.flatMap((j) => (j.kind === 'analysis' ? [analysisJobStatus(j)] : [])),
      },
      200,
    );
  });

  return app;
}
