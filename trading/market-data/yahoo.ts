import YahooFinance from 'yahoo-finance2';
import type { Bar, BarSeries, MarketDataSource } from '../bars.js';
import type { IsoDate } from '../calendar.js';
import { addDays, previousTradingDay, todayInNewYork } from '../calendar.js';

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

/** Daily bars from Yahoo Finance (online only). `fetch` is injectable so parsing is tested offline. */
export class YahooSource implements MarketDataSource {
  readonly name = 'yahoo';
  private readonly yf: InstanceType<typeof YahooFinance>;

  constructor(
    private readonly symbols: readonly string[],
    options: { fetch?: typeof fetch } = {},
  ) {
    this.yf = new YahooFinance({
      suppressNotices: ['yahooSurvey'],
      versionCheck: false,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    } as ConstructorParameters<typeof YahooFinance>[0]);
  }

  async loadDaily(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries> {
    const out: BarSeries = new Map();
    for (const symbol of symbols) {
      const chart = await this.yf.chart(symbol, { period1: from, period2: addDays(to, 1), interval: '1d' });
      out.set(
        symbol,
        barsFromChartQuotes(chart.quotes as ChartQuote[]).filter((b) => b.date >= from && b.date <= to),
      );
    }
    return out;
  }

  async latestDate(): Promise<IsoDate> {
    return previousTradingDay(todayInNewYork());
  }

  async defaultSymbols(): Promise<string[]> {
    return [...this.symbols];
  }
}
