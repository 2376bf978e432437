import type { Bar, BarSeries, MarketDataSource } from '../bars.js';
import type { IsoDate } from '../calendar.js';
import { previousTradingDay, todayInNewYork, tradingDaysBetween } from '../calendar.js';

/** mulberry32: a tiny seeded PRNG, so the same seed always yields the same market. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

export const SYNTHETIC_SYMBOLS = ['AAPL', 'AMZN', 'AVGO', 'COST', 'GOOGL', 'META', 'MSFT', 'NFLX', 'NVDA', 'TSLA'];
const EPOCH: IsoDate = '2015-01-02';

/**
 * A seeded random-walk market for offline demos: every trading day since 2015 has a bar, and a bar's
 * value depends only on the seed, the symbol and the date, never on the range asked for.
 */
export class SyntheticSource implements MarketDataSource {
  readonly name: string;
  private readonly cache = new Map<string, Bar[]>();

  constructor(
    private readonly seed = 42,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.name = `synthetic-${seed}`;
  }

  private series(symbol: string, to: IsoDate): Bar[] {
    const cached = this.cache.get(symbol);
    if (cached && (cached.at(-1)?.date ?? '') >= to) return cached;
    const random = prng(this.seed ^ hash(symbol));
    const drift = 0.0003 + random() * 0.0005;
    const vol = 0.01 + random() * 0.02;
    let close = 50 + random() * 400;
    const bars: Bar[] = [];
    for (const date of tradingDaysBetween(EPOCH, to)) {
      // Box-Muller on two uniforms gives the day's normal shock.
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      const gap = (random() - 0.5) * vol * 0.5;
      const open = close * (1 + gap);
      const next = open * Math.exp(drift - (vol * vol) / 2 + vol * z);
      const high = Math.max(open, next) * (1 + random() * vol * 0.5);
      const low = Math.min(open, next) * (1 - random() * vol * 0.5);
      bars.push({
        date,
        open: round4(open),
        high: round4(high),
        low: round4(low),
        close: round4(next),
        volume: Math.round(1e6 + random() * 5e7),
      });
      close = next;
    }
    this.cache.set(symbol, bars);
    return bars;
  }

  async loadDaily(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries> {
    const out: BarSeries = new Map();
    for (const s of symbols)
      out.set(
        s,
        this.series(s, to).filter((b) => b.date >= from && b.date <= to),
      );
    return out;
  }

  async latestDate(): Promise<IsoDate> {
    return previousTradingDay(todayInNewYork(this.now()));
  }

  async defaultSymbols(): Promise<string[]> {
    return [...SYNTHETIC_SYMBOLS];
  }
}
