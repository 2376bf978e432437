import { readFile } from 'node:fs/promises';
import type { Bar, BarSeries } from '../bars.js';
import { mergeBars, sliceByDate } from '../bars.js';
import { dayOf, endOfDay, SESSION_HOURS } from '../barTime.js';
import type { IsoDate } from '../calendar.js';

/** Hourly bars keyed by bar key (trading/barTime.ts), for hourly runs. */
export interface IntradaySource {
  readonly name: string;
  /** The session bars of `symbols` on the trading days `fromDay`..`toDay`, by bar key. */
  loadHourly(symbols: readonly string[], fromDay: IsoDate, toDay: IsoDate): Promise<BarSeries>;
  /** Every session bar key any symbol has on those days, in order: the bars an hourly run trades. */
  sessions(fromDay: IsoDate, toDay: IsoDate): Promise<string[]>;
  /** The last day with a bar. */
  latestDate(): Promise<IsoDate>;
}

const SESSION = new Set<string>(SESSION_HOURS);

/**
 * One AI-Trader hourly document (`Time Series (60min)`, keys `YYYY-MM-DD HH:MM:SS` New York time, its
 * `1. buy price` the bar's open and `4. sell price` its close): the session bars (10:00..15:00), by bar
 * key. A bar without a close is not a finished bar and is dropped.
 */
export function parseHourlyDocument(doc: Record<string, unknown>): { symbol: string; bars: Bar[] } | null {
  const symbol = (doc['Meta Data'] as Record<string, string> | undefined)?.['2. Symbol'];
  const series = doc['Time Series (60min)'] as Record<string, Record<string, string>> | undefined;
  if (!symbol || !series) return null;
  const bars: Bar[] = [];
  for (const [stamp, raw] of Object.entries(series)) {
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(:\d{2})?$/.exec(stamp);
    if (!m || !SESSION.has(m[2]!)) continue;
    const open = Number(raw['1. buy price'] ?? raw['1. open']);
    const close = Number(raw['4. sell price'] ?? raw['4. close']);
    if (!Number.isFinite(open) || !Number.isFinite(close) || open <= 0 || close <= 0) continue;
    const high = Number(raw['2. high']);
    const low = Number(raw['3. low']);
    bars.push({
      date: `${m[1]}T${m[2]}`,
      open,
      high: Number.isFinite(high) ? high : Math.max(open, close),
      low: Number.isFinite(low) ? low : Math.min(open, close),
      close,
      volume: Number(raw['5. volume']) || 0,
    });
  }
  bars.sort((a, b) => (a.date < b.date ? -1 : 1));
  return { symbol: symbol.toUpperCase(), bars };
}

/** Hourly bars from AI-Trader's hourly JSONL files (one symbol per line); later files win on overlaps. */
export class HourlyFileSource implements IntradaySource {
  readonly name = 'hourly-files';
  private loaded: Promise<Map<string, Bar[]>> | undefined;

  constructor(private readonly paths: readonly string[]) {
    if (paths.length === 0) throw new Error('HourlyFileSource needs at least one file');
  }

  private all(): Promise<Map<string, Bar[]>> {
    this.loaded ??= (async () => {
      const merged = new Map<string, Bar[]>();
      for (const path of this.paths) {
        const lines = (await readFile(path, 'utf8')).split('\n');
        lines.forEach((line, i) => {
          if (!line.trim()) return;
          let doc: Record<string, unknown>;
          try {
            doc = JSON.parse(line) as Record<string, unknown>;
          } catch (err) {
            throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
          }
          const parsed = parseHourlyDocument(doc);
          if (parsed) merged.set(parsed.symbol, mergeBars(merged.get(parsed.symbol) ?? [], parsed.bars));
        });
      }
      return merged;
    })();
    return this.loaded;
  }

  async loadHourly(symbols: readonly string[], fromDay: IsoDate, toDay: IsoDate): Promise<BarSeries> {
    const all = await this.all();
    const out: BarSeries = new Map();
    for (const s of symbols) {
      const series = all.get(s);
      if (series) out.set(s, sliceByDate(series, fromDay, endOfDay(toDay)));
    }
    return out;
  }

  async sessions(fromDay: IsoDate, toDay: IsoDate): Promise<string[]> {
    const keys = new Set<string>();
    for (const bars of (await this.all()).values()) {
      for (const b of sliceByDate(bars, fromDay, endOfDay(toDay))) keys.add(b.date);
    }
    return [...keys].sort();
  }

  async latestDate(): Promise<IsoDate> {
    let latest = '';
    for (const bars of (await this.all()).values()) {
      const last = bars.at(-1)?.date ?? '';
      if (last > latest) latest = last;
    }
    if (!latest) throw new Error(`no hourly bars in ${this.paths.join(', ')}`);
    return dayOf(latest);
  }
}
