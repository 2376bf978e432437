import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { SimulationJob } from '../../../jobs/records.js';
import type { TradingDayDoc } from '../../../storage/types.js';
import type { AppDeps, JobEnv } from '../../context.js';
import { errorResponses } from '../../http/errors.js';
import { jobOfKind, ownedJob } from '../../http/middleware/ownedJob.js';
import { RenderTurns } from '../../http/renderTurns.js';
import { validationHook } from '../../http/validation.js';
import { commonDates } from '../comparison.js';
import { ledgerOfJob, type RunLedger } from '../runLedger.js';
import { loadRunSeries } from '../runSeries.js';
import { charts } from './charts.js';
import { tearSheetHtml } from './html.js';
import { type TearSheet, tearSheet } from './model.js';
import { tearSheetPdf } from './pdf.js';

/** Trading days whose fills the tear sheet lists (read by key, a day per model each). */
const RECENT_DATES = 10;
const CACHED_SHEETS = 20;

const Params = z.object({
  jobId: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'jobId', in: 'path' } }),
});

const html = createRoute({
  method: 'get',
  path: '/{jobId}/tearsheet',
  summary: 'A run’s tear sheet as a web page: equity, drawdown and monthly-return charts, metrics, ranking, costs',
  request: { params: Params },
  responses: {
    200: {
      description: 'the page (no script; the charts’ data as JSON in #tearsheet-data)',
      content: { 'text/html': { schema: z.string() } },
    },
    ...errorResponses('not_found', 'service_unavailable'),
  },
});

const pdf = createRoute({
  method: 'get',
  path: '/{jobId}/tearsheet.pdf',
  summary: 'A run’s tear sheet as a PDF',
  request: { params: Params },
  responses: {
    200: {
      description: 'the PDF',
      content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    ...errorResponses('not_found', 'service_unavailable'),
  },
});

export type TearSheetDeps = Pick<AppDeps, 'jobs' | 'market' | 'tradingDays'>;

/** The page runs no script and loads nothing: only its inline styles (the SVGs carry style attributes). */
const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function tearSheetRoutes(deps: TearSheetDeps) {
  const app = new OpenAPIHono<JobEnv>({ defaultHook: validationHook });
  const turns = new RenderTurns();
  // A sheet is drawn again only when its run has moved on (its record changes as it runs and ends).
  const rendered = new Map<string, Promise<string | Uint8Array>>();

  async function sheetOf(job: SimulationJob, run: RunLedger): Promise<TearSheet> {
    const { start, end } = job.dateRange;
    const series = await loadRunSeries(deps, { run, job, models: job.models, start, end });
    const recent = commonDates(series.days).slice(-RECENT_DATES);
    const days = await Promise.all(
      job.models.flatMap((m) => recent.map((date) => deps.tradingDays.dayOf(run.ledgerOwner, m, date))),
    );
    const own = days.filter((d): d is TradingDayDoc => d !== null && d.jobId === job._id);
    return tearSheet(job, series, own);
  }

  function cached<T extends string | Uint8Array>(key: string, make: () => Promise<T>): Promise<T> {
    let hit = rendered.get(key) as Promise<T> | undefined;
    if (!hit) {
      hit = turns.run(make);
      rendered.set(key, hit);
      hit.catch(() => rendered.delete(key));
      while (rendered.size > CACHED_SHEETS) rendered.delete(rendered.keys().next().value!);
    }
    return hit;
  }

  const keyOf = (job: SimulationJob, kind: string) => `${job._id}|${job.updatedAt.toISOString()}|${kind}`;

  app.use('/:jobId/*', ownedJob(deps.jobs));

  /** The job the route names, loaded and checked by `ownedJob`: a simulation, and the ledger it traded. */
  const load = (c: Context<JobEnv>) => {
    const job = jobOfKind(c.var.job, 'simulation', 'tear sheet');
    return { job, run: ledgerOfJob(job) };
  };

  app.openapi(html, async (c) => {
    const { job, run } = load(c);
    const page = await cached(keyOf(job, 'html'), async () => {
      const sheet = await sheetOf(job, run);
      return tearSheetHtml(sheet, await charts(sheet));
    });
    c.header('Content-Security-Policy', PAGE_CSP);
    return c.html(page, 200);
  });

  app.openapi(pdf, async (c) => {
    const { job, run } = load(c);
    const bytes = await cached(keyOf(job, 'pdf'), async () => {
      const sheet = await sheetOf(job, run);
      return tearSheetPdf(sheet, await charts(sheet), job.completedAt ?? job.updatedAt);
    });
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'application/pdf',
      'Content-Disposition': `inline; filename="tearsheet-${job._id}.pdf"`,
    });
  });

  return app;
}
