import type { SimulationJob } from '../../jobs/records.js';
import type { DayValue } from '../../storage/ledgerSummaries.js';
import { dayOf, endOfDay } from '../../trading/barTime.js';
import { addDays } from '../../trading/calendar.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../http/errors.js';
import type { ComparisonInput } from './comparison.js';
import type { RunLedger } from './runLedger.js';

export type RunSeriesDeps = Pick<AppDeps, 'market' | 'hourly' | 'tradingDays'>;

/**
 * What a comparison or a tear sheet is drawn from: each model's days in [start, end] from the run's
 * ledger (only a paper job's own days when a job is named), the benchmark's bars (`benchmark` names one
 * by hand: then it must have prices) and, for a job, its symbols' bars for the equal-weight basket.
 */
export async function loadRunSeries(
  deps: RunSeriesDeps,
  q: {
    run: RunLedger;
    job?: SimulationJob;
    models: readonly string[];
    start: string;
    end: string;
    benchmark?: string;
  },
): Promise<Omit<ComparisonInput, 'confidence' | 'resamples'>> {
  const days = new Map<string, DayValue[]>(
    await Promise.all(
      q.models.map(async (m) => {
        const all = await deps.tradingDays.values(q.run.ledgerOwner, m, dayOf(q.start), endOfDay(q.end));
        return [m, q.job ? all.filter((d) => d.jobId === q.job!._id) : all] as const;
      }),
    ),
  );
  const symbol = (q.benchmark ?? q.run.benchmark ?? 'none').toUpperCase();
  const history = addDays(dayOf(q.start), -10);
  const end = dayOf(q.end);
  // An hourly run is measured on hourly bars: its baselines come from the hourly source.
  const hourly = q.job?.interval === '1h' ? deps.hourly : undefined;
  const load = (symbols: readonly string[]) =>
    hourly ? hourly.loadHourly(symbols, history, end) : deps.market.loadDaily(symbols, history, end);
  const bars = symbol === 'NONE' ? undefined : (await load([symbol])).get(symbol);
  if (q.benchmark !== undefined && symbol !== 'NONE' && !bars?.length) {
    throw new ApiError('unknown_ticker', `no prices for the benchmark ${symbol} in ${q.start}..${q.end}`, {
      hint: 'name another benchmark, or benchmark=none',
    });
  }
  const universe = q.job ? await load(q.job.symbols) : undefined;
  return {
    days,
    ...(bars?.length ? { benchmark: { symbol, bars } } : {}),
    ...(universe?.size ? { universe } : {}),
  };
}
