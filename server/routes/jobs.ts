import { readFile } from 'node:fs/promises';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { Analyst } from '../../analysis/contract.js';
import { endsRun } from '../../jobs/events.js';
import { isActiveStatus, isTerminalStatus } from '../../jobs/lifecycle.js';
import { type AnalysisJob, runOf } from '../../jobs/records.js';
import { type JobEventDoc, WRITER_GONE_AFTER_MS } from '../../storage/jobEvents.js';
import { analysisJobStatus } from '../analysisPresenter.js';
import { withJobCapacity } from '../auth/jobCap.js';
import { checkedCallbackUrl } from '../callbackUrl.js';
import { type AppDeps, type JobEnv, listOwner } from '../context.js';
import { ANALYSIS_START_ERRORS, ApiError, errorResponses, WRITE_ERROR_CODES } from '../errors.js';
import { jobViews } from '../kinds/index.js';
import { jobOfKind, ownedJob } from '../middleware/ownedJob.js';
import {
  DetailedStatusBody,
  FilesList,
  JobList,
  JobStatusBody,
  LogsPage,
  RetryAccepted,
  StopAccepted,
  TradingAgentsAccepted,
  TradingAgentsResult,
} from '../responses.js';
import { fileStream, NAMED_ARTIFACTS, resolveRunFile, runTar } from '../runFiles.js';
import {
  DetailsQuery,
  DownloadQuery,
  IdempotencyKey,
  JobIdParams,
  JobsQuery,
  LogsQuery,
  StopBody,
  TradingAgentsJobBody,
} from '../schemas.js';
import { withStorageWarning } from '../storeHealth.js';
import { validationHook } from '../validation.js';

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const jsonBody = <S extends z.ZodType>(schema: S, required: boolean) => ({
  required,
  content: { 'application/json': { schema } },
});

const HEARTBEAT_MS = 12_000;
/** No file of a run has a longer path (a longer one is refused, not echoed back in a 404). */
const MAX_FILE_PATH = 1_024;

/** Each event is encoded once, however many streams it goes to: a thousand clients share one string. */
const encoded = new WeakMap<JobEventDoc, Uint8Array>();
const utf8 = new TextEncoder();
function frame(e: JobEventDoc): Uint8Array {
  let bytes = encoded.get(e);
  if (!bytes) {
    // Bytes, not a string: a string would be encoded again for every stream it is written to.
    bytes = utf8.encode(
      `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e.data, timestamp: e.at.toISOString() })}\n\n`,
    );
    encoded.set(e, bytes);
  }
  return bytes;
}
const KEEP_ALIVE = utf8.encode(': keep-alive\n\n');

function position(raw: string | undefined, what: string): number {
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,10}$/.test(raw)) {
    throw new ApiError('bad_request', `${what} must be an event id (a whole number), got '${raw.slice(0, 20)}'`);
  }
  return Number(raw);
}

function disposition(name: string) {
  return `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
}

const list = createRoute({
  method: 'get',
  path: '/',
  summary: 'List jobs of every kind, newest first',
  request: { query: JobsQuery },
  responses: { 200: json(JobList, 'a page of jobs, each in its kind’s shape'), ...errorResponses('bad_request') },
});

const tradingAgentsJob = createRoute({
  method: 'post',
  path: '/',
  summary: 'TradingAgents job API: ticker + date -> decision (an analysis job)',
  request: {
    headers: z.object({ 'idempotency-key': IdempotencyKey }),
    body: jsonBody(TradingAgentsJobBody, true),
  },
  responses: {
    202: json(TradingAgentsAccepted, 'the job'),
    200: json(TradingAgentsAccepted, 'the job an earlier request with the same `Idempotency-Key` and body started'),
    ...ANALYSIS_START_ERRORS,
  },
});

const detail = createRoute({
  method: 'get',
  path: '/{jobId}',
  summary:
    'A job’s status in its kind’s shape (a simulation’s progress and a page of its model-days; an analysis’ result and files)',
  request: { params: JobIdParams, query: DetailsQuery },
  responses: { 200: json(JobStatusBody, 'the job'), ...errorResponses('not_found') },
});

const detailed = createRoute({
  method: 'get',
  path: '/{jobId}/status/detailed',
  summary: 'Steps, timings, tokens and cost',
  request: { params: JobIdParams },
  responses: { 200: json(DetailedStatusBody, 'detailed status'), ...errorResponses('not_found') },
});

const stop = createRoute({
  method: 'post',
  path: '/{jobId}/stop',
  summary: 'Stop a job: work in flight finishes or is cancelled, then it ends `stopped`',
  request: { params: JobIdParams, body: jsonBody(StopBody, false) },
  responses: {
    202: json(StopAccepted, 'stop requested'),
    ...errorResponses('not_found', 'not_running', 'bad_request', 'service_unavailable', ...WRITE_ERROR_CODES),
  },
});

const retry = createRoute({
  method: 'post',
  path: '/{jobId}/retry',
  summary:
    'Run what an ended job left undone: a simulation resumes as a new job, an analysis runs again as its next run',
  request: { params: JobIdParams },
  responses: {
    202: json(RetryAccepted, 'the run that was started'),
    200: json(RetryAccepted, 'nothing left to run, or the same job already running'),
    ...errorResponses(
      'not_found',
      'not_retryable',
      'conflict',
      'validation_error',
      'unknown_model',
      'service_unavailable',
      ...WRITE_ERROR_CODES,
    ),
  },
});

const logs = createRoute({
  method: 'get',
  path: '/{jobId}/logs',
  summary: 'A page of the job’s events, for clients that poll',
  request: { params: JobIdParams, query: LogsQuery },
  responses: { 200: json(LogsPage, 'events'), ...errorResponses('not_found', 'bad_request') },
});

const stream = createRoute({
  method: 'get',
  path: '/{jobId}/logs/stream',
  summary:
    'Live events (SSE: connection, status, log, completed, error); resume with Last-Event-ID. The stream ends after the job’s last event.',
  request: {
    params: JobIdParams,
    headers: z.object({ 'last-event-id': z.string().max(20).optional() }),
    query: z.object({ last_event_id: z.string().max(20).optional() }).strict(),
  },
  responses: {
    200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...errorResponses('not_found', 'bad_request'),
  },
});

const result = createRoute({
  method: 'get',
  path: '/{jobId}/result',
  summary: 'TradingAgents-shaped result of an analysis: decision, final_state, analyst reports',
  request: { params: JobIdParams },
  responses: { 200: json(TradingAgentsResult, 'result'), ...errorResponses('not_found', 'not_completed') },
});

const files = createRoute({
  method: 'get',
  path: '/{jobId}/files',
  summary: 'An analysis run’s manifest: every file with size and SHA-256',
  request: { params: JobIdParams },
  responses: { 200: json(FilesList, 'files'), ...errorResponses('not_found') },
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

/** Every `/jobs` route: the owned-job middleware loads `{jobId}` once for all of them. */
export function jobRoutes(deps: AppDeps) {
  const app = new OpenAPIHono<JobEnv>({ defaultHook: validationHook });
  const owned = ownedJob(deps.jobs, deps.responses);
  app.use('/:jobId', owned);
  app.use('/:jobId/*', owned);

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const { jobs, total } = await deps.jobs.list(
      {
        ...(listOwner(c) !== undefined ? { owner: listOwner(c) } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.model ? { model: q.model } : {}),
      },
      q.limit,
      q.offset,
    );
    return c.json(
      { jobs: jobs.map((j) => jobViews(deps, j).listItem()), total, limit: q.limit, offset: q.offset },
      200,
    );
  });

  // TradingAgents' job API: ticker + date -> decision, on the same machinery as /run.
  app.openapi(tradingAgentsJob, async (c) => {
    const body = c.req.valid('json');
    const callbackUrl = checkedCallbackUrl(body.callback_url, deps.webhooks?.allow);
    const cfg = body.config ?? {};
    const llm = cfg.deep_think_llm ?? cfg.quick_think_llm ?? 'deterministic';
    const analysts = cfg.selected_analysts?.map((a): Analyst => (a === 'social' ? 'sentiment' : a));
    const { jobs, existing } = await withJobCapacity(deps, c.get('owner'), 1, () =>
      deps.analyses.start(
        c.get('owner'),
        [
          {
            ticker: body.ticker,
            pipeline: 'comprehensive',
            date: body.date,
            llm,
            ...(analysts ? { analysts: [...new Set(analysts)] } : {}),
            debateRounds: cfg.max_debate_rounds ?? 1,
            riskRounds: cfg.max_risk_discuss_rounds ?? 1,
            ...(callbackUrl ? { callbackUrl } : {}),
            raw: body,
          },
        ],
        c.req.valid('header')['idempotency-key'],
      ),
    );
    const job = jobs[0]!;
    const accepted = {
      job_id: job._id,
      status: job.status,
      created_at: job.createdAt.toISOString(),
      ticker: body.ticker,
      date: body.date,
    };
    return existing ? c.json(accepted, 200) : c.json(accepted, 202);
  });

  app.openapi(detail, async (c) =>
    c.json(await withStorageWarning(deps, await jobViews(deps, c.var.job).status(c.req.valid('query'))), 200),
  );

  app.openapi(detailed, async (c) => c.json(await jobViews(deps, c.var.job).detailed(), 200));

  app.openapi(stop, async (c) => {
    const { reason } = c.req.valid('json');
    const job = c.var.job;
    await deps.control.stop(job, reason ?? 'stopped by request');
    const views = jobViews(deps, job);
    return c.json(
      {
        job_id: job._id,
        kind: job.kind,
        // What the stop started: the workflow records `stopping`, then the end.
        status: isActiveStatus(job) ? 'stopping' : job.status,
        stop_requested: true as const,
        message: views.stopMessage,
        job: views.listItem(),
      },
      202,
    );
  });

  app.openapi(retry, async (c) => {
    // A simulation's retry is a new job, under the cap; an analysis' retry runs the same job again (its
    // own start is guarded against a second retry racing it, and needs no extra reads before it).
    const again = () => jobViews(deps, c.var.job).retry(c.var.job.owner);
    const { status, body } =
      c.var.job.kind === 'simulation' ? await withJobCapacity(deps, c.var.job.owner, 1, again) : await again();
    return status === 202 ? c.json(body, 202) : c.json(body, 200);
  });

  app.openapi(logs, async (c) => {
    const job = c.var.job;
    const q = c.req.valid('query');
    const after = position(q.after, 'after');
    const [events, last] = await Promise.all([
      deps.events.page(job._id, after, q.limit, { untilHole: { graceMs: WRITER_GONE_AFTER_MS } }),
      deps.events.lastSeq(job._id),
    ]);
    return c.json(
      {
        job_id: job._id,
        status: job.status,
        events: events.map((e) => ({ id: e.seq, type: e.type, ...e.data, timestamp: e.at.toISOString() })),
        next_after: events.at(-1)?.seq ?? after,
        last_event_id: last,
      },
      200,
    );
  });

  /**
   * The live stream: typed SSE events with ids. A client that reconnects with `Last-Event-ID` gets
   * exactly the events after it, also when the job ended meanwhile; the stream closes after the job's
   * last event, and a stream of an ended job with nothing left to send closes at once (browsers'
   * EventSource reconnects with the last id it saw, so this is what ends its loop).
   */
  app.openapi(stream, async (c) => {
    const job = c.var.job;
    const after = position(c.req.header('last-event-id') ?? c.req.valid('query').last_event_id, 'Last-Event-ID');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (sse) => {
      await sse.writeSSE({
        event: 'connection',
        data: JSON.stringify({
          job_id: job._id,
          status: job.status,
          resumed_after: after,
          timestamp: new Date().toISOString(),
        }),
      });
      const last = await deps.events.lastSeq(job._id);
      if (isTerminalStatus(job) && after >= last) {
        // Ended, and the client has seen everything: nothing will ever come.
        return;
      }
      // A position past the end claims events nobody has written: this client has seen all there is. The
      // job's stream is shared, so a made-up position must not become where it starts for everyone.
      const from = Math.min(after, last);
      // The run this client follows: an earlier run's end (a job that ran again) does not end its stream.
      const run = runOf(job);
      let queue = Promise.resolve();
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      let done = false;
      const unsubscribe = deps.eventHub.subscribe(job._id, from, {
        deliver: (e) => {
          if (done) return;
          const ends = endsRun(e, run);
          if (ends) done = true;
          queue = queue.then(async () => {
            await sse.write(frame(e));
            if (ends) finish();
          });
        },
        // The hub found the job ended with nothing more for this stream.
        end: () => finish(),
      });
      const heartbeat = setInterval(() => {
        queue = queue.then(() => sse.write(KEEP_ALIVE)).then(() => undefined);
      }, HEARTBEAT_MS);
      sse.onAbort(() => finish());
      try {
        await finished;
      } finally {
        clearInterval(heartbeat);
        unsubscribe();
      }
      await queue;
    });
  });

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

async function serveRunFile(deps: AppDeps, job: AnalysisJob, path: string) {
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
