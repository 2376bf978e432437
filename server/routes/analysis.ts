import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';
import { renderMarkdownPdf } from '../../analysis/artifacts/markdownPdf.js';
import type { Analyst } from '../../analysis/contract.js';
import { analysisJobStatus } from '../analysisPresenter.js';
import type { AnalysisRequest } from '../analysisService.js';
import { type AppDeps, type AppEnv, workflowUiLink } from '../context.js';
import { ApiError } from '../errors.js';
import { fileStream, NAMED_ARTIFACTS, resolveRunFile, runTar } from '../runFiles.js';
import { RunAnalysisBody, TradingAgentsJobBody } from '../schemas.js';
import { jsonBody, parseWith } from '../validation.js';

async function ownedAnalysis(deps: AppDeps, owner: string, jobId: string) {
  const job = await deps.jobs.get(jobId);
  if (!job || job.owner !== owner) throw new ApiError('not_found', `no job ${jobId}`);
  if (job.kind !== 'analysis')
    throw new ApiError('not_found', `job ${jobId} is a ${job.kind} job and has no analysis files`);
  return job;
}

function disposition(name: string) {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

/** `POST /run` (api-runner) and the analysis job's results and files. */
export function analysisRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post('/run', async (c) => {
    const body = parseWith(RunAnalysisBody, await jsonBody(c), 'request body');
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
      raw: body,
    }));
    const { jobs, batchId } = await deps.analyses.start(c.get('owner'), requests);
    const present = (j: (typeof jobs)[number]) => ({
      ...analysisJobStatus(j, { webUi: workflowUiLink(deps, j.workflowId) }),
      message: 'Analysis queued',
    });
    if (batchId) {
      return c.json(
        {
          batch_id: batchId,
          total_jobs: jobs.length,
          job_ids: jobs.map((j) => j._id),
          status: 'pending',
          jobs: jobs.map(present),
        },
        202,
      );
    }
    return c.json(present(jobs[0]!), 202);
  });

  app.get('/batches/:batchId', async (c) => {
    const batchId = c.req.param('batchId');
    const { jobs } = await deps.jobs.list({ owner: c.get('owner'), kind: 'analysis', batchId }, 200, 0);
    if (jobs.length === 0) throw new ApiError('not_found', `no batch ${batchId}`);
    const counts: Record<string, number> = {};
    for (const j of jobs) counts[j.status] = (counts[j.status] ?? 0) + 1;
    return c.json({ batch_id: batchId, total_jobs: jobs.length, counts, jobs: jobs.map((j) => analysisJobStatus(j)) });
  });

  // TradingAgents' job API: ticker + date -> decision, on the same machinery as /run.
  app.post('/jobs', async (c) => {
    const body = parseWith(TradingAgentsJobBody, await jsonBody(c), 'request body');
    const cfg = body.config ?? {};
    const llm = cfg.deep_think_llm ?? cfg.quick_think_llm ?? 'deterministic';
    const analysts = cfg.selected_analysts?.map((a): Analyst => (a === 'social' ? 'sentiment' : a));
    const { jobs } = await deps.analyses.start(c.get('owner'), [
      {
        ticker: body.ticker,
        pipeline: 'comprehensive',
        date: body.date,
        llm,
        ...(analysts ? { analysts: [...new Set(analysts)] } : {}),
        debateRounds: cfg.max_debate_rounds ?? 1,
        riskRounds: cfg.max_risk_discuss_rounds ?? 1,
        raw: body,
      },
    ]);
    const job = jobs[0]!;
    return c.json(
      {
        job_id: job._id,
        status: job.status,
        created_at: job.createdAt.toISOString(),
        ticker: body.ticker,
        date: body.date,
      },
      202,
    );
  });

  app.get('/jobs/:jobId/result', async (c) => {
    const job = await ownedAnalysis(deps, c.get('owner'), c.req.param('jobId'));
    const result = job.analysis?.manifest?.result;
    if (job.status !== 'completed' || !result) {
      throw new ApiError('not_completed', `job ${job._id} is ${job.status}; its result exists once it completes`, {
        status: job.status,
      });
    }
    return c.json({
      job_id: job._id,
      ticker: job.analysis!.ticker,
      date: job.analysis!.asOf,
      decision: result.decision,
      final_state: {
        rating: result.rating,
        confidence: result.confidence,
        reasons: result.reasons,
        last_close: result.lastClose,
        target_price: result.targetPrice ?? null,
        fair_value: result.fairValue ?? null,
        summary: result.summary,
      },
      reports: {
        market: result.reports.market ?? null,
        sentiment: result.reports.sentiment ?? null,
        news: result.reports.news ?? null,
        fundamentals: result.reports.fundamentals ?? null,
      },
      usage: job.analysis!.usage ?? null,
    });
  });

  app.get('/jobs/:jobId/files', async (c) => {
    const job = await ownedAnalysis(deps, c.get('owner'), c.req.param('jobId'));
    const s = analysisJobStatus(job);
    return c.json({
      job_id: job._id,
      ticker: s.ticker,
      status: job.status,
      files: s.files,
      downloads: s.links.downloads,
    });
  });

  app.get('/jobs/:jobId/files/*', async (c) => {
    const job = await ownedAnalysis(deps, c.get('owner'), c.req.param('jobId'));
    const prefix = `/jobs/${encodeURIComponent(job._id)}/files/`;
    const raw = c.req.path.startsWith(prefix) ? c.req.path.slice(prefix.length) : '';
    let path: string;
    try {
      path = decodeURIComponent(raw);
    } catch {
      throw new ApiError('bad_request', 'file path is not valid URL encoding');
    }
    const { full, entry } = await resolveRunFile(deps.dataDir, job, path);
    return c.body(fileStream(full), 200, {
      'Content-Type': entry.contentType,
      'Content-Length': String(entry.size),
      ETag: `"${entry.sha256}"`,
      'Content-Disposition': disposition(entry.path.split('/').pop()!),
    });
  });

  app.get('/jobs/:jobId/download/:name', async (c) => {
    const job = await ownedAnalysis(deps, c.get('owner'), c.req.param('jobId'));
    const name = c.req.param('name');
    const ticker = job.analysis!.ticker;
    if (name === 'all-results') {
      if (!job.analysis?.manifest)
        throw new ApiError('file_not_available', `job ${job._id} has no files yet (status ${job.status})`);
      return c.body(await runTar(deps.dataDir, job), 200, {
        'Content-Type': 'application/x-tar',
        'Content-Disposition': disposition(`${ticker}_${job.analysis.asOf}_${job._id}.tar`),
      });
    }
    const pathOf = NAMED_ARTIFACTS[name];
    if (!pathOf) {
      throw new ApiError('not_found', `no artifact named ${name}`, {
        artifacts: [...Object.keys(NAMED_ARTIFACTS), 'all-results'],
      });
    }
    const { full, entry } = await resolveRunFile(deps.dataDir, job, pathOf(ticker));
    const format = c.req.query('format');
    if (format === 'pdf' && entry.path.endsWith('.md')) {
      // api-runner served summaries as PDF on the fly; the markdown stays the stored artifact.
      const pdf = await renderMarkdownPdf(await readFile(full, 'utf8'), {
        title: `${ticker} ${name}`,
        author: 'tradeflow',
      });
      return c.body(pdf as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': 'application/pdf',
        'Content-Disposition': disposition(entry.path.split('/').pop()!.replace(/\.md$/, '.pdf')),
      });
    }
    if (format && format !== 'pdf')
      throw new ApiError('validation_error', `format must be pdf (or absent), not ${format}`);
    return c.body(fileStream(full), 200, {
      'Content-Type': entry.contentType,
      'Content-Length': String(entry.size),
      ETag: `"${entry.sha256}"`,
      'Content-Disposition': disposition(entry.path.split('/').pop()!),
    });
  });

  return app;
}
