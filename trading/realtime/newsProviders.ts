import { createHash } from 'node:crypto';
import type YahooFinance from 'yahoo-finance2';
import { yahooError } from '../market-data/yahoo.js';
import { type YahooClientOptions, yahooClient } from '../market-data/yahooClient.js';
import { type NewsItem, type NewsSource, parseNewsItem } from '../news.js';
import type { NewsProvider, NewsStory } from './feed.js';

/** The key a story is stored under: its URL's hash where it has one, else its id, so either repeats once. */
export function storyKey(story: Pick<NewsStory, 'id' | 'url'>): string {
  return story.url
    ? `url:${createHash('sha256').update(story.url.trim().toLowerCase()).digest('hex').slice(0, 16)}`
    : `id:${story.id}`;
}

/**
 * Offline news for the hub: the news files' stories about a symbol, oldest first, one more each poll, as
 * if they were arriving; undated stories are dropped as they are for the agents (trading/news.ts).
 */
export class ReplayNewsProvider implements NewsProvider {
  readonly name: string;

  constructor(private readonly source: NewsSource) {
    this.name = `replay:${source.name}`;
  }

  async latest(symbol: string, cursor: number): Promise<{ stories: NewsStory[]; cursor: number }> {
    const items = (await this.source.load([symbol]))
      .map(parseNewsItem)
      .filter((n): n is NewsItem => n?.symbols.includes(symbol) === true)
      .sort((a, b) => (a.publishedAt < b.publishedAt ? -1 : a.publishedAt > b.publishedAt ? 1 : 0));
    const next = items[cursor];
    if (!next) return { stories: [], cursor };
    return {
      stories: [
        {
          id: next.id,
          symbol,
          title: next.title,
          url: next.url ?? null,
          publisher: next.source ?? null,
          published_at: next.publishedAt,
          summary: next.summary ?? null,
          source: this.name,
        },
      ],
      cursor: cursor + 1,
    };
  }
}

/** The fields of one item of yahoo-finance2's `search(…).news` this provider reads. */
export interface YahooNewsFields {
  uuid?: string;
  title?: string;
  publisher?: string;
  link?: string;
  providerPublishTime?: Date | number | string;
}

/** Yahoo's search news as stories; an item without a title or a time is dropped. */
export function storiesFromYahooNews(symbol: string, news: readonly YahooNewsFields[]): NewsStory[] {
  const out: NewsStory[] = [];
  for (const n of news) {
    if (typeof n.title !== 'string' || !n.title.trim() || n.providerPublishTime === undefined) continue;
    const at = new Date(n.providerPublishTime);
    if (Number.isNaN(at.getTime())) continue;
    const url = typeof n.link === 'string' ? n.link : null;
    const id = n.uuid ?? (url ? storyKey({ id: '', url }) : null);
    if (!id) continue;
    out.push({
      id,
      symbol,
      title: n.title.trim(),
      url,
      publisher: n.publisher ?? null,
      published_at: at.toISOString(),
      summary: null,
      source: 'yahoo',
    });
  }
  return out;
}

/** News from Yahoo's search, through yahoo-finance2. */
export class YahooNewsProvider implements NewsProvider {
  readonly name = 'yahoo';
  private readonly yf: InstanceType<typeof YahooFinance>;

  constructor(options: Pick<YahooClientOptions, 'fetch' | 'baseUrl'> = {}) {
    this.yf = yahooClient(options);
  }

  async latest(symbol: string, cursor: number): Promise<{ stories: NewsStory[]; cursor: number }> {
    const result = (await this.yf.search(symbol, { quotesCount: 0, newsCount: 10 }).catch((err: unknown) => {
      throw yahooError(err, symbol);
    })) as { news?: YahooNewsFields[] };
    return { stories: storiesFromYahooNews(symbol, result.news ?? []), cursor: cursor + 1 };
  }
}
