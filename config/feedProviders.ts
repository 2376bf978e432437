import type { NewsSource } from '../trading/news.js';
import type { NewsProvider, QuoteProvider } from '../trading/realtime/feed.js';
import { ReplayNewsProvider, YahooNewsProvider } from '../trading/realtime/newsProviders.js';
import { type ReplayBars, ReplayQuoteProvider } from '../trading/realtime/replayQuotes.js';
import { YahooQuoteProvider } from '../trading/realtime/yahooQuotes.js';
import type { ResolvedMarketData } from './services.js';

/**
 * What the live hubs' pollers read: Yahoo's quotes and news when the market source is Yahoo; offline, a
 * replay of the configured source's closes, and of the news files when there are any.
 */
export function createFeedProviders(
  market: ResolvedMarketData,
  bars: ReplayBars,
  sourceName: string,
  newsFiles: NewsSource | undefined,
  options: { fetch?: typeof fetch } = {},
): { quotes: QuoteProvider; news?: NewsProvider } {
  if (market.source === 'yahoo') {
    const client = { ...options, ...(market.yahooUrl ? { baseUrl: market.yahooUrl } : {}) };
    return { quotes: new YahooQuoteProvider(client), news: new YahooNewsProvider(client) };
  }
  return {
    quotes: new ReplayQuoteProvider(bars, sourceName),
    ...(newsFiles ? { news: new ReplayNewsProvider(newsFiles) } : {}),
  };
}
