import type { BarSeries } from '../bars.js';
import { addDays, type IsoDate } from '../calendar.js';
import type { PriceTick, QuoteProvider } from './feed.js';

/** What replay reads bars from: the worker's bar cache over the configured source. */
export interface ReplayBars {
  latestDate(): Promise<IsoDate>;
  load(symbols: readonly string[], from: IsoDate, to: IsoDate): Promise<BarSeries>;
}

/** How many past sessions a replay walks through before it starts over. */
const REPLAY_DAYS = 90;

/**
 * Offline prices for the hubs: each poll steps one session through the source's last ~90 closes, over
 * and over. Every tick names the replayed date, and says when the source is the synthetic walk, so the
 * demo and the tests are never mistaken for the market.
 */
export class ReplayQuoteProvider implements QuoteProvider {
  readonly name: string;

  constructor(
    private readonly bars: ReplayBars,
    private readonly sourceName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.name = `replay:${sourceName}`;
  }

  async quote(symbol: string, cursor: number): Promise<{ tick: PriceTick | null; cursor: number }> {
    const to = await this.bars.latestDate();
    const series = (await this.bars.load([symbol], addDays(to, -Math.ceil(REPLAY_DAYS * 1.5)), to)).get(symbol) ?? [];
    if (series.length < 2) return { tick: null, cursor };
    // Index 0 has no previous close: the walk runs over 1..n-1.
    const step = 1 + (((cursor % (series.length - 1)) + (series.length - 1)) % (series.length - 1));
    const bar = series[step]!;
    const previous = series[step - 1]!.close;
    const change = Math.round((bar.close - previous) * 10_000) / 10_000;
    return {
      tick: {
        symbol,
        price: bar.close,
        change,
        change_percent: previous > 0 ? Math.round((change / previous) * 1_000_000) / 10_000 : null,
        volume: bar.volume,
        at: this.now().toISOString(),
        source: this.name,
        synthetic: this.sourceName.startsWith('synthetic'),
        replay_of: bar.date,
      },
      cursor: cursor + 1,
    };
  }
}
