import type { Bar, BarSeries } from './bars.js';
import { lowerBound } from './bars.js';
import { isBarKey } from './barTime.js';
import type { IsoDate } from './calendar.js';
import { isIsoDate } from './calendar.js';

/** What an agent deciding on `date` may know of one day: the full bar before `date`, only the open on it. */
export type VisibleBar = Bar | { date: IsoDate; open: number };

export class LookAheadError extends Error {
  constructor(
    readonly requested: IsoDate,
    readonly today: IsoDate,
  ) {
    super(`data for ${requested} is not available on ${today}: only earlier days and today's open can be seen`);
    this.name = 'LookAheadError';
  }
}

/**
 * The market as it stands at the open of one trading day, or of one hourly bar (`date` a bar key,
 * trading/barTime.ts). It is built by copying bars dated before `date` plus the open of `date`; nothing
 * later is ever held, so no call can leak the future.
 */
export class MarketView {
  private readonly past = new Map<string, readonly Bar[]>();
  private readonly opens = new Map<string, number>();

  constructor(
    readonly date: IsoDate,
    series: BarSeries,
  ) {
    for (const [symbol, bars] of series) {
      const cut = lowerBound(bars, date);
      // The slice holds only earlier bars; bars are immutable data, so they are frozen in place, not copied.
      const past = bars.slice(0, cut);
      for (const b of past) Object.freeze(b);
      this.past.set(symbol, Object.freeze(past));
      const today = bars[cut];
      if (today && today.date === date) this.opens.set(symbol, today.open);
    }
  }

  /** Full bars strictly before today, the most recent `limit` of them. */
  history(symbol: string, limit = Number.POSITIVE_INFINITY): readonly Bar[] {
    const bars = this.past.get(symbol) ?? [];
    return limit >= bars.length ? bars : bars.slice(bars.length - limit);
  }

  /** Today's opening price: the price every order of the day fills at. */
  openToday(symbol: string): number | undefined {
    return this.opens.get(symbol);
  }

  lastClose(symbol: string): number | undefined {
    return this.past.get(symbol)?.at(-1)?.close;
  }

  /** The bar of a given date as far as it may be known today; throws for any later date. */
  barOn(symbol: string, date: IsoDate): VisibleBar | undefined {
    if (!isIsoDate(date) && !isBarKey(date))
      throw new RangeError(`not a YYYY-MM-DD date or YYYY-MM-DDTHH:MM bar: ${date}`);
    if (date > this.date) throw new LookAheadError(date, this.date);
    if (date === this.date) {
      const open = this.opens.get(symbol);
      return open === undefined ? undefined : { date, open };
    }
    const bars = this.past.get(symbol) ?? [];
    const i = lowerBound(bars, date);
    return bars[i]?.date === date ? bars[i] : undefined;
  }
}
