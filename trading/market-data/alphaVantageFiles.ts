import { readFile } from 'node:fs/promises';
import type { Bar, BarSeries, MarketDataSource } from '../bars.js';
import { mergeBars, sliceByDate } from '../bars.js';
import type { IsoDate } from '../calendar.js';
import { isIsoDate } from '../calendar.js';

type AlphaVantageBar = Record<string, string>;
interface AlphaVantageDocument {
  'Meta Data'?: Record<string, string>;
  [series: string]: unknown;
}

/** Alpha Vantage names open/close `1. open`/`4. close`; AI-Trader's merged files `1. buy price`/`4. sell price`. */
function pick(bar: AlphaVantageBar, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = bar[k];
    if (v !== undefined && v !== '') {
      const n = Number(v);
      if (Number.isFinite(n)) return n;
    }
  }
  return undefined;
}

/**
 * Parses one Alpha Vantage daily document. Bars without a close are dropped: AI-Trader's merged files
 * keep only the open of their newest bar, which is not a full trading day.
 */
export function parseAlphaVantageDocument(doc: AlphaVantageDocument): { symbol: string; bars: Bar[] } | null {
  const symbol = doc['Meta Data']?.['2. Symbol'];
  const seriesKey = Object.keys(doc).find((k) => k.startsWith('Time Series (Daily)'));
  if (!symbol || !seriesKey) return null;
  const series = doc[seriesKey] as Record<string, AlphaVantageBar>;
  const bars: Bar[] = [];
  for (const [date, raw] of Object.entries(series)) {
    if (!isIsoDate(date)) continue;
    const open = pick(raw, '1. open', '1. buy price');
    const close = pick(raw, '4. close', '4. sell price');
    if (open === undefined || close === undefined) continue;
    bars.push({
      date,
      open,
      high: pick(raw, '2. high') ?? Math.max(open, close),
      low: pick(raw, '3. low') ?? Math.min(open, close),
      close,
      volume: pick(raw, '5. volume', '6. volume') ?? 0,
    });
  }
  bars.sort((a, b) => (a.date < b.date ? -1 : 1));
  return { symbol: symbol.toUpperCase(), bars };
}

export function parseAlphaVantageJsonl(text: string, sourceName = 'input'): Map<string, Bar[]> {
  const out = new Map<string, Bar[]>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let doc: AlphaVantageDocument;
    try {
      doc = JSON.parse(line) as AlphaVantageDocument;
    } catch (err) {
      throw new Error(`${sourceName}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    const parsed = parseAlphaVantageDocument(doc);
    if (parsed) out.set(parsed.symbol, mergeBars(out.get(parsed.symbol) ?? [], parsed.bars));
  });
  return out;
}

/** The benchmark ETF in AI-Trader's files; it is priced but not traded by default. */
export const BENCHMARK_SYMBOL = 'QQQ';

/**
 * Daily bars from files in the Alpha Vantage / AI-Trader JSONL format (one symbol per line).
 * Later files win where dates overlap.
 */
export class AlphaVantageFileSource implements MarketDataSource {
  readonly name: string;
  private loaded: Promise<Map<string, Bar[]>> | undefined;

  constructor(private readonly paths: readonly string[]) {
    if (paths.length === 0) throw new Error('AlphaVantageFileSource needs at least one file');
    this.name = 'files';
  }

  private all(): Promise<Map<string, Bar[]>> {
    this.loaded ??= (async () => {
      const merged = new Map<string, Bar[]>();
      for (const path of this.paths) {
        const text = await readFile(path, 'utf8');
        for (const [symbol, bars] of parseAlphaVantageJsonl(text, path)) {
          merged.set(symbol, mergeBars(merged.get(symbol) ?? [], bars));
        }
      }
      return merged;
    })();
    return this.loaded;
  }

  async loadDaily(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries> {
    const all = await this.all();
    const out: BarSeries = new Map();
    for (const s of symbols) {
      const series = all.get(s);
      if (series) out.set(s, sliceByDate(series, from, to));
    }
    return out;
  }

  async latestDate(): Promise<IsoDate> {
    let latest = '';
    for (const bars of (await this.all()).values()) {
      const last = bars.at(-1)?.date ?? '';
      if (last > latest) latest = last;
    }
    if (!latest) throw new Error(`no daily bars in ${this.paths.join(', ')}`);
    return latest;
  }

  async defaultSymbols(): Promise<string[]> {
    return [...(await this.all()).keys()].filter((s) => s !== BENCHMARK_SYMBOL).sort();
  }
}
