import type { Collection } from 'mongodb';
import type { AnalysisJob, JobDoc } from '../../jobs/records.js';
import type { Bar } from '../../trading/bars.js';
import { addDays, type IsoDate } from '../../trading/calendar.js';
import type { ChatGrounding } from '../../workflows/chat/contract.js';

/** Calendar days of prices an answer quotes from: about two weeks of sessions. */
const PRICE_WINDOW_DAYS = 14;
/** Completed analyses of one ticker read to choose the latest: more is never needed, fewer could miss it. */
const ANALYSES_READ = 20;

export interface PriceReader {
  latestDate(): Promise<IsoDate>;
  load(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<Map<string, Bar[]>>;
}

/**
 * The owner's latest completed analysis of `ticker`: the latest analysis date, then the latest
 * completion (a rerun of an older date does not hide a newer one). One with a decision wins over a
 * pipeline that makes none (news-only and the like).
 */
export async function latestAnalysis(
  jobs: Pick<Collection<JobDoc>, 'find'>,
  owner: string,
  ticker: string,
): Promise<AnalysisJob | null> {
  const found = (await jobs
    .find({ owner, kind: 'analysis', status: 'completed', symbols: ticker }, { sort: { createdAt: -1 } })
    .limit(ANALYSES_READ)
    .toArray()) as AnalysisJob[];
  const rank = (j: AnalysisJob) =>
    `${j.analysis.manifest?.result?.decision ? 1 : 0}|${j.analysis.asOf}|${(j.completedAt ?? j.createdAt).toISOString()}`;
  return found.reduce<AnalysisJob | null>((best, j) => (!best || rank(j) > rank(best) ? j : best), null);
}

/** The tickers the owner has analyses of, with the company each names: the chat's symbol search reads them. */
export async function analysedCompanies(
  jobs: Pick<Collection<JobDoc>, 'find'>,
  owner: string,
): Promise<Array<[string, string]>> {
  const docs = (await jobs
    .find(
      { owner, kind: 'analysis', status: 'completed' },
      { sort: { createdAt: -1 }, projection: { 'analysis.ticker': 1, 'analysis.company': 1 } },
    )
    .limit(200)
    .toArray()) as Array<Pick<AnalysisJob, 'analysis'>>;
  return docs.map((d) => [d.analysis.company, d.analysis.ticker]);
}

export function analysisFacts(job: AnalysisJob | null): ChatGrounding['analysis'] {
  if (!job) return null;
  const r = job.analysis.manifest?.result;
  return {
    job_id: job._id,
    as_of: job.analysis.asOf,
    completed_at: job.completedAt ? job.completedAt.toISOString() : null,
    decision: r?.decision ?? null,
    rating: r?.rating ?? null,
    confidence: r?.confidence ?? null,
    close_at_analysis: r?.lastClose ?? null,
    target_price: r?.targetPrice ?? null,
    fair_value: r?.fairValue ?? null,
    summary: r?.summary ?? null,
  };
}

/** The last close and the move over the recent sessions; null when the source has none for the ticker. */
export async function recentPrices(
  prices: PriceReader,
  ticker: string,
  source: string | null,
): Promise<ChatGrounding['prices']> {
  const latest = await prices.latestDate();
  const bars = (await prices.load([ticker], addDays(latest, -PRICE_WINDOW_DAYS), latest)).get(ticker) ?? [];
  const last = bars.at(-1);
  if (!last) return null;
  const first = bars[0]!;
  return {
    last_date: last.date,
    last_close: last.close,
    change_pct: bars.length > 1 ? round2(((last.close - first.close) / first.close) * 100) : null,
    sessions: bars.length,
    source,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
