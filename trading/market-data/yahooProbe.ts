import { addDays, todayInNewYork } from '../calendar.js';
import { yahooError } from './yahoo.js';
import { type YahooClientOptions, yahooClient } from './yahooClient.js';

/** How long start-up waits for Yahoo before it settles for the offline default. */
export const YAHOO_PROBE_TIMEOUT_MS = 4_000;

export type YahooProbe = { reachable: true } | { reachable: false; reason: string };

/**
 * Whether Yahoo answers a chart request now, asked once at start-up through yahoo-finance2 itself (so
 * a Yahoo that answers but that the client can no longer read counts as unusable, as it is). Bounded:
 * a machine whose packets go nowhere waits `timeoutMs`, not the operating system's TCP timeout.
 */
export async function probeYahoo(
  options: Pick<YahooClientOptions, 'fetch' | 'baseUrl'> & { timeoutMs?: number; symbol?: string } = {},
): Promise<YahooProbe> {
  const timeoutMs = options.timeoutMs ?? YAHOO_PROBE_TIMEOUT_MS;
  const symbol = options.symbol ?? 'AAPL';
  const yf = yahooClient({ ...options, timeoutMs, quiet: true });
  const today = todayInNewYork();
  let timer: NodeJS.Timeout | undefined;
  // The fetch is bounded too; this bounds what yahoo-finance2 does around it (its queue, its parsing).
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs + 500);
  });
  try {
    await Promise.race([yf.chart(symbol, { period1: addDays(today, -10), interval: '1d' }), deadline]);
    return { reachable: true };
  } catch (err) {
    const e = yahooError(err, symbol);
    const reason =
      e.failure === 'unavailable'
        ? 'Yahoo unreachable'
        : e.failure === 'rate_limited'
          ? 'Yahoo is rate-limiting this address'
          : e.failure === 'changed_response'
            ? "Yahoo's answer is not what yahoo-finance2 reads: upgrade yahoo-finance2"
            : `Yahoo does not know ${symbol}`;
    return { reachable: false, reason };
  } finally {
    clearTimeout(timer);
  }
}
