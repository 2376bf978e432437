import type YahooFinance from 'yahoo-finance2';
import { yahooError } from '../market-data/yahoo.js';
import { type YahooClientOptions, yahooClient } from '../market-data/yahooClient.js';
import type { PriceTick, QuoteProvider } from './feed.js';

/** The fields of yahoo-finance2's quote this provider reads. */
export interface YahooQuoteFields {
  symbol?: string;
  regularMarketPrice?: number;
  regularMarketChange?: number;
  regularMarketChangePercent?: number;
  regularMarketVolume?: number;
  regularMarketTime?: Date | number | string;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** A Yahoo quote as a tick; null when Yahoo has no regular-market price for it (yet). */
export function tickFromQuote(symbol: string, q: YahooQuoteFields | undefined, now: Date): PriceTick | null {
  if (!q || typeof q.regularMarketPrice !== 'number' || !Number.isFinite(q.regularMarketPrice)) return null;
  const time = q.regularMarketTime === undefined ? now : new Date(q.regularMarketTime);
  return {
    symbol,
    price: round4(q.regularMarketPrice),
    change: typeof q.regularMarketChange === 'number' ? round4(q.regularMarketChange) : null,
    change_percent: typeof q.regularMarketChangePercent === 'number' ? round4(q.regularMarketChangePercent) : null,
    volume: typeof q.regularMarketVolume === 'number' ? q.regularMarketVolume : null,
    at: Number.isNaN(time.getTime()) ? now.toISOString() : time.toISOString(),
    source: 'yahoo',
    synthetic: false,
  };
}

/** Live quotes from Yahoo Finance through yahoo-finance2; failures are YahooErrors with what to do. */
export class YahooQuoteProvider implements QuoteProvider {
  readonly name = 'yahoo';
  private readonly yf: InstanceType<typeof YahooFinance>;

  constructor(options: Pick<YahooClientOptions, 'fetch' | 'baseUrl'> = {}) {
    this.yf = yahooClient(options);
  }

  async quote(symbol: string, cursor: number): Promise<{ tick: PriceTick | null; cursor: number }> {
    const q = (await this.yf.quote(symbol).catch((err: unknown) => {
      throw yahooError(err, symbol);
    })) as YahooQuoteFields | undefined;
    return { tick: tickFromQuote(symbol, q, new Date()), cursor: cursor + 1 };
  }
}
