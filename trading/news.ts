import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isBarKey } from './barTime.js';
import { EXCHANGE_TIME_ZONE, wallTimeIn } from './marketDay.js';

/** One news item as an agent may read it. */
export interface NewsItem {
  id: string;
  title: string;
  summary?: string;
  url?: string;
  source?: string;
  /** ISO 8601 with an offset or `Z`: when it was published. */
  publishedAt: string;
  symbols: string[];
}

/** Where news comes from: files offline, a provider online. Items may be undated or dated later. */
export interface NewsSource {
  readonly name: string;
  load(symbols: readonly string[]): Promise<unknown[]>;
}

/** The instant an agent decides: the day's open (09:30 New York), or an hourly bar's start. */
export function decisionTimeOf(dateOrBarKey: string): Date {
  const day = dateOrBarKey.slice(0, 10);
  const hhmm = isBarKey(dateOrBarKey) ? dateOrBarKey.slice(11) : '09:30';
  return newYorkTime(day, hhmm);
}

/** `day` at `hhmm` New York time, as an instant (daylight saving included). */
export function newYorkTime(day: string, hhmm: string): Date {
  return wallTimeIn(day, hhmm, EXCHANGE_TIME_ZONE);
}

/** An item checked and normalized, or null when it has no usable date or title (then it is never shown). */
export function parseNewsItem(raw: unknown): NewsItem | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const published = typeof r.published_at === 'string' ? r.published_at : r.publishedAt;
  // A date without an offset is ambiguous by hours: it is dropped, as an undated one is.
  if (typeof published !== 'string' || !/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(published))
    return null;
  const at = Date.parse(published);
  if (!Number.isFinite(at) || typeof r.title !== 'string' || !r.title.trim()) return null;
  const url = typeof r.url === 'string' ? r.url : undefined;
  const id =
    typeof r.id === 'string' && r.id
      ? r.id
      : url
        ? `url:${createHash('sha256').update(url.trim().toLowerCase()).digest('hex').slice(0, 16)}`
        : null;
  if (!id) return null;
  const symbols = Array.isArray(r.symbols) ? r.symbols.filter((s): s is string => typeof s === 'string') : [];
  return {
    id,
    title: r.title.trim(),
    ...(typeof r.summary === 'string' ? { summary: r.summary } : {}),
    ...(url ? { url } : {}),
    ...(typeof r.source === 'string' ? { source: r.source } : {}),
    publishedAt: new Date(at).toISOString(),
    symbols: symbols.map((s) => s.toUpperCase()),
  };
}

/**
 * The news an agent deciding at `at` may read about `symbols`: only items published strictly before
 * that instant (an item dated later is never shown, an undated one is dropped), each once (by id, else
 * by its URL's hash), newest first, at most `limit`.
 */
export async function newsVisibleAt(
  source: NewsSource,
  symbols: readonly string[],
  at: Date,
  limit = 20,
): Promise<NewsItem[]> {
  const wanted = new Set(symbols.map((s) => s.toUpperCase()));
  const seen = new Set<string>();
  const out: NewsItem[] = [];
  // Oldest first, so a story published twice is kept as it first appeared, whatever the files' order.
  const items = (await source.load(symbols))
    .map(parseNewsItem)
    .filter((n): n is NewsItem => n !== null && Date.parse(n.publishedAt) < at.getTime())
    .sort((a, b) => (a.publishedAt < b.publishedAt ? -1 : a.publishedAt > b.publishedAt ? 1 : 0));
  for (const item of items) {
    if (!item.symbols.some((s) => wanted.has(s))) continue;
    const key = item.url
      ? `url:${createHash('sha256').update(item.url.trim().toLowerCase()).digest('hex').slice(0, 16)}`
      : item.id;
    if (seen.has(item.id) || seen.has(key)) continue;
    seen.add(item.id);
    seen.add(key);
    out.push(item);
  }
  return out.sort((a, b) => (a.publishedAt < b.publishedAt ? 1 : -1)).slice(0, limit);
}

/** News from JSONL files (one item per line: id, title, url, published_at with its offset, symbols). */
export class NewsFileSource implements NewsSource {
  readonly name = 'news-files';
  private loaded: Promise<unknown[]> | undefined;

  constructor(private readonly paths: readonly string[]) {}

  load(): Promise<unknown[]> {
    this.loaded ??= (async () => {
      const items: unknown[] = [];
      for (const path of this.paths) {
        for (const [i, line] of (await readFile(path, 'utf8')).split('\n').entries()) {
          if (!line.trim()) continue;
          try {
            items.push(JSON.parse(line));
          } catch (err) {
            throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
          }
        }
      }
      return items;
    })();
    return this.loaded;
  }
}
