import type { Bar } from '../trading/bars.js';
import { annualVolatility, beta, dailyReturns, macd, maxDrawdown, pctChange, rsi, sma } from './indicators.js';

/** A price/volume event that would have made news: an outsized move or volume spike. */
export interface MarketEvent {
  date: string;
  change: number;
  volumeRatio: number;
  kind: 'gap-up' | 'gap-down' | 'volume-spike';
}

/** Everything the analysts know about a ticker on the analysis date, computed from bars up to it. */
export interface MarketFacts {
  ticker: string;
  asOf: string;
  sessions: number;
  firstDate: string;
  lastDate: string;
  lastClose: number;
  returns: { d5: number | null; m1: number | null; m3: number | null; m6: number | null; y1: number | null };
  sma20: number | null;
  sma50: number | null;
  sma200: number | null;
  rsi14: number | null;
  macd: { macd: number; signal: number; histogram: number } | null;
  volatility: number | null;
  maxDrawdown1y: number;
  high52w: number;
  low52w: number;
  avgVolume20: number;
  volumeTrend: number | null;
  beta: number | null;
  benchmark: { symbol: string; m3: number | null; y1: number | null } | null;
  events: MarketEvent[];
  monthlyCloses: { month: string; close: number }[];
}

export class NotEnoughHistoryError extends Error {
  override name = 'NotEnoughHistory';
}

export function computeMarketFacts(
  ticker: string,
  asOf: string,
  bars: readonly Bar[],
  benchmark?: { symbol: string; bars: readonly Bar[] },
): MarketFacts {
  // Look-ahead guard: whatever the caller passes, nothing after the analysis date is used.
  const seen = bars.filter((b) => b.date <= asOf);
  if (seen.length < 30) {
    throw new NotEnoughHistoryError(
      `${ticker} has ${seen.length} sessions up to ${asOf}; the analysis needs at least 30`,
    );
  }
  const closes = seen.map((b) => b.close);
  const year = closes.slice(-252);
  const volumes = seen.map((b) => b.volume);
  const avgVolume20 = sma(volumes, 20) ?? 0;
  const avgVolume60 = sma(volumes, 60);
  const benchBars = benchmark?.bars.filter((b) => b.date <= asOf) ?? [];
  const benchCloses = benchBars.map((b) => b.close);
  return {
    ticker,
    asOf,
    sessions: seen.length,
    firstDate: seen[0]!.date,
    lastDate: seen.at(-1)!.date,
    lastClose: closes.at(-1)!,
    returns: {
      d5: pctChange(closes, 5),
      m1: pctChange(closes, 21),
      m3: pctChange(closes, 63),
      m6: pctChange(closes, 126),
      y1: pctChange(closes, 251),
    },
    sma20: sma(closes, 20),
    sma50: sma(closes, 50),
    sma200: sma(closes, 200),
    rsi14: rsi(closes, 14),
    macd: macd(closes),
    volatility: annualVolatility(closes.slice(-126)),
    maxDrawdown1y: maxDrawdown(year),
    high52w: Math.max(...seen.slice(-252).map((b) => b.high)),
    low52w: Math.min(...seen.slice(-252).map((b) => b.low)),
    avgVolume20,
    volumeTrend: avgVolume60 ? avgVolume20 / avgVolume60 - 1 : null,
    beta: benchBars.length
      ? beta(new Map(seen.map((b) => [b.date, b.close])), new Map(benchBars.map((b) => [b.date, b.close])))
      : null,
    benchmark: benchmark
      ? { symbol: benchmark.symbol, m3: pctChange(benchCloses, 63), y1: pctChange(benchCloses, 251) }
      : null,
    events: marketEvents(seen.slice(-90)),
    monthlyCloses: monthlyCloses(seen),
  };
}

function marketEvents(bars: readonly Bar[]): MarketEvent[] {
  const closes = bars.map((b) => b.close);
  const returns = dailyReturns(closes);
  const sd = Math.sqrt(returns.reduce((a, r) => a + r * r, 0) / Math.max(returns.length, 1));
  const events: MarketEvent[] = [];
  for (let i = 20; i < bars.length; i++) {
    const change = returns[i - 1]!;
    const avgVol = bars.slice(i - 20, i).reduce((a, b) => a + b.volume, 0) / 20;
    const volumeRatio = avgVol > 0 ? bars[i]!.volume / avgVol : 1;
    const big = Math.abs(change) > Math.max(2.5 * sd, 0.03);
    if (big || volumeRatio > 2) {
      events.push({
        date: bars[i]!.date,
        change,
        volumeRatio,
        kind: big ? (change > 0 ? 'gap-up' : 'gap-down') : 'volume-spike',
      });
    }
  }
  return events.slice(-12);
}

function monthlyCloses(bars: readonly Bar[]): { month: string; close: number }[] {
  const byMonth = new Map<string, number>();
  for (const b of bars) byMonth.set(b.date.slice(0, 7), b.close);
  return [...byMonth].map(([month, close]) => ({ month, close })).slice(-24);
}
