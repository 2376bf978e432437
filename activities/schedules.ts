import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { renderMarkdownPdf } from '../analysis/artifacts/markdownPdf.js';
import type { JobStore } from '../storage/jobStore.js';
import { type MarketDay, marketDayAt } from '../trading/marketDay.js';
import {
  type DailyReportJob,
  type DailyReportsDone,
  dailyReportsDir,
  type SimulationCatchUpDone,
  type WatchlistEntry,
} from '../workflows/scheduleContract.js';

export interface ScheduleActivityDeps {
  jobs: JobStore;
  dataDir: string;
  /** The market source's latest date: a report is written on the last session it has. */
  latestMarketDate: () => Promise<string>;
  /** The HTTP API the catch-up triggers (read when it runs; `TRADEFLOW_API_URL`, else this host's PORT). */
  apiUrl?: () => string;
  /**
   * An admin API key the catch-up acts for the schedule's owner with (read when it runs:
   * `TRADEFLOW_SERVICE_API_KEY`, else the first-run admin key in the data folder).
   */
  serviceApiKey?: () => string | undefined;
  logger: Logger;
}

export const defaultApiUrl = () => process.env.TRADEFLOW_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? '8080'}`;

/** The headers that make a request the owner's, made with an admin key (none without a key). */
function serviceAuth(key: string | undefined, owner: string | undefined): Record<string, string> {
  if (!key) return {};
  return { authorization: `Bearer ${key}`, ...(owner ? { 'x-tradeflow-act-as': owner } : {}) };
}

/** Markdown table cells: no pipes or line breaks from the data. */
const cell = (v: unknown) =>
  String(v ?? '—')
    .replace(/\|/g, '/')
    .replace(/\s+/g, ' ');

export function createScheduleActivities(d: ScheduleActivityDeps) {
  /**
   * The exchange calendar's decision for a scheduled instant (its date in New York, open or why not),
   * and the session a pre-market report is written on: the last one before that date that the market
   * data has.
   */
  async function checkMarketDay(input: { at: string }): Promise<MarketDay & { asOf: string }> {
    const day = marketDayAt(input.at);
    const latest = await d.latestMarketDate();
    return { ...day, asOf: [day.previousSession, latest].sort()[0]! };
  }

  /**
   * The day's digest (markdown and PDF) and one report per sector, from the batch's jobs as recorded:
   * each company's decision, rating and target, the batch's aggregated status and counts.
   */
  async function writeDailyDigest(input: {
    date: string;
    asOf: string;
    batchId: string;
    scheduleId: string;
    watchlist: WatchlistEntry[];
    jobs: Array<{ jobId: string; ticker: string; sector: string; status: string; error?: string }>;
  }): Promise<DailyReportsDone> {
    const jobs: DailyReportJob[] = [];
    for (const j of input.jobs) {
      const doc = await d.jobs.get(j.jobId);
      const result = doc?.kind === 'analysis' ? doc.analysis.manifest?.result : undefined;
      const status = doc?.status ?? j.status;
      jobs.push({
        jobId: j.jobId,
        ticker: j.ticker,
        sector: j.sector,
        status,
        ...(result
          ? { decision: result.decision, rating: result.rating, targetPrice: result.targetPrice ?? null }
          : {}),
        ...((doc?.error ?? j.error) && status !== 'completed' ? { error: doc?.error ?? j.error } : {}),
      });
    }
    const counts: Record<string, number> = {};
    for (const j of jobs) counts[j.status] = (counts[j.status] ?? 0) + 1;
    const completed = counts.completed ?? 0;
    const status = completed === jobs.length ? 'completed' : completed > 0 ? 'partial' : 'failed';

    const dir = dailyReportsDir(input.date, input.batchId);
    await mkdir(join(d.dataDir, dir), { recursive: true });
    const sectorNames = [...new Set(input.watchlist.map((w) => w.sector))];
    const sectors: DailyReportsDone['sectors'] = [];
    const sectorSections: string[] = [];
    for (const sector of sectorNames) {
      const members = jobs.filter((j) => j.sector === sector);
      const tally = (decision: string) => members.filter((m) => m.decision === decision).length;
      const decided = members.filter((m) => m.decision);
      const stance =
        decided.length === 0
          ? 'no decision yet'
          : tally('BUY') > tally('SELL')
            ? 'net positive'
            : tally('SELL') > tally('BUY')
              ? 'net negative'
              : 'neutral';
      const section = [
        `## Sector: ${sector}`,
        '',
        `${members.length} ${members.length === 1 ? 'company' : 'companies'}, ${decided.length} decided: ${tally('BUY')} BUY, ${tally('HOLD')} HOLD, ${tally('SELL')} SELL (${stance}).`,
        '',
        '| Ticker | Status | Decision | Rating | Target |',
        '| --- | --- | --- | --- | --- |',
        ...members.map(
          (m) =>
            `| ${cell(m.ticker)} | ${cell(m.status)} | ${cell(m.decision)} | ${cell(m.rating)} | ${cell(m.targetPrice)} |`,
        ),
        '',
      ].join('\n');
      sectorSections.push(section);
      const file = `${dir}/sector-${sector.replace(/[^A-Za-z0-9._-]+/g, '_')}.md`;
      await writeFile(
        join(d.dataDir, file),
        `# ${sector}: sector report for ${input.date}\n\nWritten on the session of ${input.asOf}.\n\n${section}`,
      );
      sectors.push({ sector, report: file, tickers: members.map((m) => m.ticker) });
    }
    const countsLine = Object.entries(counts)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    const markdown = [
      `# Pre-market digest for ${input.date}`,
      '',
      `Schedule ${input.scheduleId}, batch ${input.batchId}; analyses as of the ${input.asOf} session.`,
      '',
      `Batch status: **${status}** (${countsLine}).`,
      '',
      '## Decisions',
      '',
      '| Ticker | Sector | Status | Decision | Rating | Target |',
      '| --- | --- | --- | --- | --- | --- |',
      ...jobs.map(
        (j) =>
          `| ${cell(j.ticker)} | ${cell(j.sector)} | ${cell(j.status)} | ${cell(j.decision)} | ${cell(j.rating)} | ${cell(j.targetPrice)} |`,
      ),
      '',
      ...sectorSections,
      ...(jobs.some((j) => j.error)
        ? ['## Errors', '', ...jobs.filter((j) => j.error).map((j) => `- ${j.ticker}: ${cell(j.error)}`), '']
        : []),
    ].join('\n');
    const digest = { markdown: `${dir}/digest.md`, pdf: `${dir}/digest.pdf` };
    await writeFile(join(d.dataDir, digest.markdown), markdown);
    const pdf = await renderMarkdownPdf(markdown, {
      title: `Pre-market digest ${input.date}`,
      author: 'tradeflow',
      subject: `daily reports of schedule ${input.scheduleId}`,
    });
    await writeFile(join(d.dataDir, digest.pdf), pdf);
    return { status, date: input.date, asOf: input.asOf, batchId: input.batchId, counts, jobs, sectors, digest };
  }

  /**
   * The daily catch-up, exactly as `POST /simulate/trigger` with no dates: through the API, whose
   * planner and model locks decide what runs. The key makes a retried attempt find the job it started.
   */
  async function triggerSimulationCatchUp(input: {
    idempotencyKey: string;
    /** The schedule's owner, whose job it starts (absent in runs started before owners were passed). */
    owner?: string;
    models?: string[];
    callbackUrl?: string;
    date: string;
  }): Promise<SimulationCatchUpDone> {
    const url = `${(d.apiUrl ?? defaultApiUrl)().replace(/\/$/, '')}/simulate/trigger`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': input.idempotencyKey,
        // The worker's admin key, acting for the schedule's owner: the job is theirs.
        ...serviceAuth(d.serviceApiKey?.(), input.owner),
      },
      body: JSON.stringify({
        ...(input.models ? { models: input.models } : {}),
        ...(input.callbackUrl ? { callback_url: input.callbackUrl } : {}),
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json().catch(() => ({}))) as { job_id?: string; status?: string; message?: string };
    if (res.status >= 500 || res.status === 429) {
      // Temporal retries the activity: the API or Temporal is down for a moment.
      throw new Error(`POST ${url} answered ${res.status}: ${body.message ?? ''}`);
    }
    if (res.status >= 400) {
      // A refusal (409 another simulation over these models runs, 422 no trading day to add) is this run's answer.
      const done: SimulationCatchUpDone = {
        status: 'failed',
        date: input.date,
        httpStatus: res.status,
        ...(body.message ? { message: body.message } : {}),
      };
      if (res.status === 400) throw ApplicationFailure.nonRetryable(`POST ${url} refused: ${body.message}`);
      return done;
    }
    return {
      status: body.status === 'current' ? 'current' : 'triggered',
      date: input.date,
      httpStatus: res.status,
      ...(body.job_id ? { jobId: body.job_id } : {}),
      ...(body.message ? { message: body.message } : {}),
    };
  }

  return { checkMarketDay, writeDailyDigest, triggerSimulationCatchUp };
}

export type ScheduleActivities = ReturnType<typeof createScheduleActivities>;
