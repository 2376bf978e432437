/** The two live channels: prices and news, each polled by one poller per symbol. */
export type FeedKind = 'price' | 'news';

/** A price as the price hub sends it. */
export interface PriceTick {
  symbol: string;
  price: number;
  /** Against the previous close. */
  change: number | null;
  change_percent: number | null;
  volume: number | null;
  /** When the price was quoted (ISO 8601). */
  at: string;
  /** The provider: `yahoo`, or `replay:<market source>` offline. */
  source: string;
  /** True when the price comes from the seeded random walk, not the market. */
  synthetic: boolean;
  /** A replayed bar's date: replay steps through past closes, so nobody takes them for today's. */
  replay_of?: string;
}

/** A news story as the news hub sends it; `id` is the provider's, else a hash of its URL. */
export interface NewsStory {
  id: string;
  symbol: string;
  title: string;
  url: string | null;
  publisher: string | null;
  published_at: string;
  summary: string | null;
  source: string;
}

/** Quotes for one symbol at a time; `cursor` lets a replay continue where the last poll stopped. */
export interface QuoteProvider {
  readonly name: string;
  quote(symbol: string, cursor: number): Promise<{ tick: PriceTick | null; cursor: number }>;
}

/** News for one symbol: the newest stories the provider has, in any order (the hub de-duplicates). */
export interface NewsProvider {
  readonly name: string;
  latest(symbol: string, cursor: number): Promise<{ stories: NewsStory[]; cursor: number }>;
}

/** What a symbol may look like on either hub (Yahoo's spellings: BRK-B, ^GSPC, EURUSD=X). */
export const SYMBOL_PATTERN = /^[A-Z0-9^][A-Z0-9.\-=^]{0,14}$/;
