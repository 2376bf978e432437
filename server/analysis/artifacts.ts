import { readFile } from 'node:fs/promises';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AnalysisJob } from '../../jobs/records.js';
import type { AppDeps, JobEnv } from '../context.js';
import { ApiError, errorResponses } from '../http/errors.js';
import { jobOfKind, ownedJob } from '../http/middleware/ownedJob.js';
import { jsonResponse } from '../http/openapi.js';
import { validationHook } from '../http/validation.js';
import { FilesList, TradingAgentsResult } from '../responses.js';
import { DownloadQuery, JobIdParams } from '../schemas.js';
import { analysisJobStatus } from './presenter.js';
import { fileStream, NAMED_ARTIFACTS, resolveRunFile, runTar } from './runFiles.js';

// What an analysis run produced: its TradingAgents-shaped result, its files and its named artifacts.

/** No file of a run has a longer path (a longer one is refused, not echoed back in a 404). */
const MAX_FILE_PATH = 1_024;

function disposition(name: string) {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

const result = createRoute({
  method: 'get',
  path: '/{jobId}/result',
  summary: 'TradingAgents-shaped result of an analysis: decision, final_state, analyst reports',
  request: { params: JobIdParams },
  responses: { 200: jsonResponse(TradingAgentsResult, 'result'), ...errorResponses('not_found', 'not_completed') },
});

const files = createRoute({
  method: 'get',
  path: '/{jobId}/files',
  summary: 'An analysis run’s manifest: every file with size and SHA-256',
  request: { params: JobIdParams },
  responses: { 200: jsonResponse(FilesList, 'files'), ...errorResponses('not_found') },
});

const download = createRoute({
  method: 'get',
  path: '/{jobId}/download/{artifact}',
  summary: `A named artifact of an analysis: ${[...NAMED_ARTIFACTS.keys()].join(', ')}, all-results (tar); \`?format=pdf\` renders markdown as PDF`,
  request: {
    params: JobIdParams.extend({ artifact: z.string().min(1).max(100) }),
    query: DownloadQuery,
  },
  responses: {
    200: { description: 'the file' },
    ...errorResponses('not_found', 'file_not_available', 'validation_error', 'bad_request'),
  },
});

/** What these routes use of the app's dependencies. */
export type AnalysisArtifactDeps = Pick<AppDeps, 'dataDir' | 'jobs' | 'pdfs' | 'responses'>;

export function analysisArtifactRoutes(deps: AnalysisArtifactDeps) {
  const app = new OpenAPIHono<JobEnv>({ defaultHook: validationHook });
  const owned = ownedJob(deps.jobs, deps.responses);
  for (const path of ['/:jobId/result', '/:jobId/files', '/:jobId/files/*', '/:jobId/download/*']) app.use(path, owned);

  app.openapi(result, async (c) => {
    const job = jobOfKind(c.var.job, 'analysis', 'analysis result');
    const r = job.analysis.manifest?.result;
    if (job.status !== 'completed' || !r) {
      throw new ApiError('not_completed', `job ${job._id} is ${job.status}; its result exists once it completes`, {
        status: job.status,
      });
    }
    return c.json(
      {
        job_id: job._id,
        ticker: job.analysis.ticker,
        date: job.analysis.asOf,
        decision: r.decision,
        final_state: {
          rating: r.rating,
          confidence: r.confidence,
          reasons: r.reasons,
          last_close: r.lastClose,
          target_price: r.targetPrice ?? null,
          fair_value: r.fairValue ?? null,
          summary: r.summary,
        },
        reports: {
          market: r.reports.market ?? null,
          sentiment: r.reports.sentiment ?? null,
          news: r.reports.news ?? null,
          fundamentals: r.reports.fundamentals ?? null,
        },
        usage: job.analysis.usage ?? null,
      },
      200,
    );
  });

  app.openapi(files, async (c) => {
    const job = jobOfKind(c.var.job, 'analysis', 'analysis files');
    const s = analysisJobStatus(job);
    return c.json(
      { job_id: job._id, ticker: s.ticker, status: job.status, files: s.files, downloads: s.links.downloads },
      200,
    );
  });

  // One file by its manifest path, which may hold slashes: a route the OpenAPI helper cannot express.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/{jobId}/files/{path}',
    summary: 'One file of an analysis run, by its manifest path (nothing outside the run is served)',
    request: { params: JobIdParams.extend({ path: z.string() }) },
    responses: {
      200: { description: 'the file; ETag is its SHA-256' },
      ...errorResponses('not_found', 'file_not_available', 'bad_request'),
    },
  });
  app.get('/:jobId/files/:path{.+}', async (c) => {
    const job = jobOfKind(c.var.job, 'analysis', 'analysis files');
    let path: string;
    try {
      path = decodeURIComponent(c.req.param('path'));
    } catch {
      throw new ApiError('bad_request', 'file path is not valid URL encoding');
    }
    if (path.length > MAX_FILE_PATH)
      throw new ApiError('bad_request', `a file path is at most ${MAX_FILE_PATH} characters`);
    return serveRunFile(deps, job, path);
  });

  app.openapi(download, async (c) => {
    const job = jobOfKind(c.var.job, 'analysis', 'analysis files');
    const { artifact } = c.req.valid('param');
    const { format } = c.req.valid('query');
    const ticker = job.analysis.ticker;
    if (artifact === 'all-results') {
      if (!job.analysis.manifest) {
        throw new ApiError('file_not_available', `job ${job._id} has no files yet (status ${job.status})`);
      }
      return c.body(await runTar(deps.dataDir, job), 200, {
        'Content-Type': 'application/x-tar',
        'Content-Disposition': disposition(`${ticker}_${job.analysis.asOf}_${job._id}.tar`),
      });
    }
    const pathOf = NAMED_ARTIFACTS.get(artifact);
    if (!pathOf) {
      throw new ApiError('not_found', `no artifact named ${artifact}`, {
        artifacts: [...NAMED_ARTIFACTS.keys(), 'all-results'],
      });
    }
    if (format === 'pdf' && pathOf(ticker).endsWith('.md')) {
      // api-runner served markdown artifacts as PDF; pipelines render them beside the markdown.
      const rendered = pathOf(ticker).replace(/\.md$/, '.pdf');
      if (job.analysis.manifest?.files.some((f) => f.path === rendered)) return serveRunFile(deps, job, rendered);
      // A run from before that: rendered here, one at a time, and kept.
      const { full, entry } = await resolveRunFile(deps.dataDir, job, pathOf(ticker));
      const pdf = await deps.pdfs.render(entry.sha256, () => readFile(full, 'utf8'), `${ticker} ${artifact}`);
      return c.body(pdf as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': 'application/pdf',
        'Content-Disposition': disposition(entry.path.split('/').pop()!.replace(/\.md$/, '.pdf')),
      });
    }
    return serveRunFile(deps, job, pathOf(ticker));
  });

  return app;
}

async function serveRunFile(deps: AnalysisArtifactDeps, job: AnalysisJob, path: string) {
  const { full, entry } = await resolveRunFile(deps.dataDir, job, path);
  return new Response(fileStream(full), {
    status: 200,
    headers: {
      'Content-Type': entry.contentType,
      'Content-Length': String(entry.size),
      ETag: `"${entry.sha256}"`,
      'Content-Disposition': disposition(entry.path.split('/').pop()!),
    },
  });
}
