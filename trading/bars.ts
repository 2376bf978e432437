import type { IsoDate } from './calendar.js';

/** One daily OHLCV bar; prices in dollars with at most four decimals. */
export interface Bar {
  date: IsoDate;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Bars per symbol, each series sorted by date ascending. */
export type BarSeries = Map<string, Bar[]>;

export interface MarketDataSource {
  /** A short stable name, used as the cache key in MongoDB. */
  readonly name: string;
  /** Daily bars for the symbols between `from` and `to` inclusive; missing symbols are absent. */
  loadDaily(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries>;
  /** The last date this source can have data for (a file's end, or yesterday for live sources). */
  latestDate(): Promise<IsoDate>;
  /** The symbols it offers by default, when a request names none. */
  defaultSymbols(): Promise<string[]>;
}

/** The bars of one series from `from` to `to` inclusive, by binary search. */
export function sliceByDate(series: readonly Bar[], from: IsoDate, to: IsoDate): Bar[] {
  const lo = lowerBound(series, from);
  let hi = lo;
  while (hi < series.length && series[hi]!.date <= to) hi++;
  return series.slice(lo, hi);
}

/** Index of the first bar dated on or after `date`. */
export function lowerBound(series: readonly Bar[], date: IsoDate): number {
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid]!.date < date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Merges bars into a series: a newer bar for the same date replaces the older one. */
export function mergeBars(existing: readonly Bar[], incoming: readonly Bar[]): Bar[] {
  const byDate = new Map<IsoDate, Bar>();
  for (const b of existing) byDate.set(b.date, b);
  for (const b of incoming) byDate.set(b.date, b);
  return [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}
