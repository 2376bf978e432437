import type { Bar } from './bars.js';
import { lowerBound } from './bars.js';
import { isBarKey, previousBarKey } from './barTime.js';
import type { IsoDate } from './calendar.js';
import { previousTradingDay } from './calendar.js';

/** No price a valuation may use: the job must fail and say so rather than value a ledger wrongly. */
export class MissingMarketData extends Error {
  override readonly name = 'MissingMarketData';

  constructor(
    readonly symbol: string,
    readonly date: IsoDate,
    detail: string,
  ) {
    super(`no price to value ${symbol} on ${date}: ${detail}`);
  }
}

/** The close a holding is valued at, and the date of the bar it comes from. */
export interface ValuationPrice {
  close: number;
  date: IsoDate;
}

/**
 * The price a holding of `symbol` is valued at on `date`: that day's close. A symbol without a bar on a
 * day the market traded was halted or the data lacks it, and the two look the same; a halted stock is
 * worth its last trade, so the previous trading day's close stands (the caller records that it did).
 * Anything older is refused: a gap in the data must fail loudly, never carry a stale price forward
 * (issue 7: a cache gap valued AAPL at a 2015-02-27 close for months).
 */
export function closeForValuation(series: readonly Bar[] | undefined, symbol: string, date: IsoDate): ValuationPrice {
  const bars = series ?? [];
  const i = lowerBound(bars, date);
  const today = bars[i];
  if (today?.date === date) return { close: today.close, date };
  // An hourly bar's previous is the bar before it (the previous day's last for a day's first).
  const previous = isBarKey(date) ? previousBarKey(date) : previousTradingDay(date);
  const last = bars[i - 1];
  if (last?.date === previous) return { close: last.close, date: previous };
  throw new MissingMarketData(
    symbol,
    date,
    last ? `no bar on ${date} nor on ${previous}, the last is from ${last.date}` : `no bar on or before ${date}`,
  );
}
