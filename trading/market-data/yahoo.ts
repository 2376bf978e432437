import type YahooFinance from 'yahoo-finance2';
import type { Bar, BarSeries, MarketDataSource } from '../bars.js';
import type { IsoDate } from '../calendar.js';
import { addDays, previousTradingDay, todayInNewYork } from '../calendar.js';
import { type YahooClientOptions, yahooClient } from './yahooClient.js';

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

interface ChartQuote {
  date: Date;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number | null;
}

/** Turns yahoo-finance2 chart quotes into bars, dropping the partial rows Yahoo sends for halted days. */
export function barsFromChartQuotes(quotes: readonly ChartQuote[]): Bar[] {
  const bars: Bar[] = [];
  for (const q of quotes) {
    if (q.open == null || q.close == null) continue;
    bars.push({
      date: todayInNewYork(q.date),
      open: round4(q.open),
      high: round4(q.high ?? Math.max(q.open, q.close)),
      low: round4(q.low ?? Math.min(q.open, q.close)),
      close: round4(q.close),
      volume: q.volume ?? 0,
    });
  }
  return bars;
}

/**
 * When a day's bar is final: Yahoo's daily bar for today moves with every trade until the close (16:00
 * New York) and settles in the minutes after it, so it counts only from 16:30. Early-close days (13:00)
 * wait until then as well, which costs nothing but a few hours' freshness.
 */
export const DAILY_BAR_FINAL_AT_NY_MINUTE = 16 * 60 + 30;

const newYorkClock = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** Minutes since midnight in New York at `now`. */
function newYorkMinuteOfDay(now: Date): number {
  const parts = newYorkClock.formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * The bars a job may trade on at `now`: today's bar before it is final is dropped (a job that took it
 * would trade on a close that has not happened yet), and so is any bar dated after today.
 */
export function completeDailyBars(bars: readonly Bar[], now: Date): Bar[] {
  const today = todayInNewYork(now);
  const todayIsFinal = newYorkMinuteOfDay(now) >= DAILY_BAR_FINAL_AT_NY_MINUTE;
  return bars.filter((b) => b.date < today || (b.date === today && todayIsFinal));
}

/** What went wrong asking Yahoo, for whom, and what to do about it. */
export type YahooFailure = 'rate_limited' | 'unknown_symbol' | 'changed_response' | 'unavailable';

export class YahooError extends Error {
  override readonly name = 'YahooError';

  constructor(
    readonly failure: YahooFailure,
    readonly symbol: string,
    message: string,
  ) {
    super(message);
  }

  /** Whether asking again later can help (a rate limit, an outage), or never (a ticker, a changed API). */
  get retryable(): boolean {
    return this.failure === 'rate_limited' || this.failure === 'unavailable';
  }
}

/** yahoo-finance2's error for `symbol`, as one of our typed failures with what to do. */
export function yahooError(err: unknown, symbol: string): YahooError {
  const e = err as { name?: string; message?: string };
  const message = e.message ?? String(err);
  if (/too many requests|\b429\b/i.test(message)) {
    return new YahooError(
      'rate_limited',
      symbol,
      `Yahoo rate-limited the request for ${symbol}: wait a minute and try again, or ask for fewer symbols at once`,
    );
  }
  if (/no data found|delisted|not found/i.test(message)) {
    return new YahooError(
      'unknown_symbol',
      symbol,
      `Yahoo has no data for ${symbol}: check the ticker (Yahoo spells share classes with a dash, e.g. BRK-B)`,
    );
  }
  // A response the client cannot read: its validation refuses it, or (for chart) its parser trips on a
  // missing field with a TypeError; a TypeError of `fetch` itself is the network.
  const unreadable =
    e.name === 'FailedYahooValidationError' ||
    (e.name === 'TypeError' && !/fetch failed/i.test(message)) ||
    /validation|unexpected token|unexpected end of json|not parsable|invalid json/i.test(message);
  if (unreadable) {
    return new YahooError(
      'changed_response',
      symbol,
      `Yahoo's answer for ${symbol} is not what yahoo-finance2 expects (${message.slice(0, 200)}): Yahoo changed its API; upgrade yahoo-finance2`,
    );
  }
  return new YahooError('unavailable', symbol, `Yahoo could not be reached for ${symbol}: ${message.slice(0, 200)}`);
}

/** Daily bars from Yahoo Finance (online only). `fetch`, the host and the clock are injectable for tests. */
export class YahooSource implements MarketDataSource {
  readonly name = 'yahoo';
  private readonly yf: InstanceType<typeof YahooFinance>;
  private readonly now: () => Date;

  constructor(
    private readonly symbols: readonly string[],
    options: Pick<YahooClientOptions, 'fetch' | 'baseUrl'> & { now?: () => Date } = {},
  ) {
    this.yf = yahooClient(options);
    this.now = options.now ?? (() => new Date());
  }

  async loadDaily(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries> {
    const out: BarSeries = new Map();
    for (const symbol of symbols) {
      const chart = await this.yf
        .chart(symbol, { period1: from, period2: addDays(to, 1), interval: '1d' })
        .catch((err: unknown) => {
          throw yahooError(err, symbol);
        });
      const bars = completeDailyBars(barsFromChartQuotes(chart.quotes as ChartQuote[]), this.now());
      out.set(
        symbol,
        bars.filter((b) => b.date >= from && b.date <= to),
      );
    }
    return out;
  }

  /** The last day whose bars are final everywhere: yesterday's trading day (today's may still move). */
  async latestDate(): Promise<IsoDate> {
    return previousTradingDay(todayInNewYork(this.now()));
  }

  async defaultSymbols(): Promise<string[]> {
    return [...this.symbols];
  }
}
