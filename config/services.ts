import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { MarketDataSource } from '../trading/bars.js';
import { AlphaVantageFileSource } from '../trading/market-data/alphaVantageFiles.js';
import { HourlyFileSource, type IntradaySource } from '../trading/market-data/hourlyFiles.js';
import { NASDAQ_100 } from '../trading/market-data/nasdaq100.js';
import { SyntheticSource } from '../trading/market-data/synthetic.js';
import { YahooSource } from '../trading/market-data/yahoo.js';
import { probeYahoo } from '../trading/market-data/yahooProbe.js';
import { NewsFileSource, type NewsSource } from '../trading/news.js';
import type { Settings } from './settings.js';

/** Market-data settings with `auto` decided: what a source is made from. */
export type ResolvedMarketData = Exclude<Settings['marketData'], { source: 'auto' }>;

/**
 * Decides `auto` once, at process start: Yahoo (the NASDAQ-100 unless MARKET_SYMBOLS names others) when
 * it answers a chart request within a few seconds, else the synthetic walk with the reason. Any other
 * source is returned as it is, without asking anyone. `npm start` resolves it once and hands the answer
 * to the worker and the API, so both read the same market.
 */
export async function resolveMarketData(
  settings: Settings['marketData'],
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<ResolvedMarketData> {
  if (settings.source !== 'auto') return settings;
  const { seed, symbols, yahooUrl } = settings;
  const probe = await probeYahoo({
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(yahooUrl ? { baseUrl: yahooUrl } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  if (probe.reachable) {
    return { source: 'yahoo', symbols: symbols ?? [...NASDAQ_100], ...(yahooUrl ? { yahooUrl } : {}) };
  }
  return { source: 'synthetic', seed, ...(symbols ? { symbols } : {}), fallback: probe.reason };
}

/** The source behind `settings`; `auto` has to be resolved first (resolveMarketData). */
export function createMarketSource(settings: Settings['marketData']): MarketDataSource {
  switch (settings.source) {
    case 'files':
      return new AlphaVantageFileSource(settings.files);
    case 'yahoo':
      return new YahooSource(settings.symbols, settings.yahooUrl ? { baseUrl: settings.yahooUrl } : {});
    case 'synthetic':
      return new SyntheticSource(settings.seed);
    case 'auto':
      // A process that made its source without deciding would read a different market than its peers.
      throw new Error('MARKET_DATA_SOURCE=auto is decided at start: call resolveMarketData before createMarketSource');
  }
}

/** Hourly bars for hourly backtests, when files are configured. */
export function createHourlySource(settings: Pick<Settings, 'hourlyFiles'>): IntradaySource | undefined {
  return settings.hourlyFiles.length ? new HourlyFileSource(settings.hourlyFiles) : undefined;
}

/** The news agents may read, when files are configured. */
export function createNewsSource(settings: Pick<Settings, 'newsFiles'>): NewsSource | undefined {
  return settings.newsFiles.length ? new NewsFileSource(settings.newsFiles) : undefined;
}

/** The symbols a job trades when its request names none. */
export async function defaultSymbols(settings: Settings['marketData'], source: MarketDataSource): Promise<string[]> {
  return settings.symbols ?? (await source.defaultSymbols());
}

function connectionOptions(t: Settings['temporal'], address: string) {
  return {
    address,
    ...(t.tls ? { tls: { clientCertPair: { crt: Buffer.from(t.tls.cert), key: Buffer.from(t.tls.key) } } } : {}),
    ...(t.apiKey ? { apiKey: t.apiKey, ...(t.tls ? {} : { tls: true }) } : {}),
  };
}

/** The SDK does not retry its first connection; a service started beside Temporal has to. */
async function withRetry<T>(what: string, attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 200;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() + delay > deadline) throw new Error(`cannot connect to ${what}: ${(err as Error).message}`);
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export function connectTemporalClient(t: Settings['temporal'], address: string, timeoutMs = 60_000) {
  return withRetry(`Temporal at ${address}`, () => Connection.connect(connectionOptions(t, address)), timeoutMs);
}

export function connectTemporalWorker(t: Settings['temporal'], address: string, timeoutMs = 60_000) {
  return withRetry(`Temporal at ${address}`, () => NativeConnection.connect(connectionOptions(t, address)), timeoutMs);
}
