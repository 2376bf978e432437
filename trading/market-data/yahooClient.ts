import YahooFinance from 'yahoo-finance2';

/** Where yahoo-finance2 sends its API calls (chart among them): it picks one of these hosts. */
const YAHOO_API_HOSTS = /^https:\/\/query[12]\.finance\.yahoo\.com(?=[/?]|$)/;

export interface YahooClientOptions {
  /** The fetch the client calls (tests inject one); the global fetch by default. */
  fetch?: typeof fetch;
  /**
   * A base URL (`http://127.0.0.1:PORT`) that takes the place of Yahoo's API hosts: for tests, which run
   * a Yahoo-shaped server on loopback behind the real client (`TRADEFLOW_YAHOO_URL`).
   */
  baseUrl?: string;
  /** Each request is abandoned after this long (the start-up probe is short); unbounded by default. */
  timeoutMs?: number;
  /** yahoo-finance2 logs validation failures at length; the probe keeps quiet, the source does not. */
  quiet?: boolean;
}

/** A fetch that sends Yahoo's API calls to `baseUrl` instead, everything else where it was going. */
export function rewritingFetch(baseUrl: string, inner: typeof fetch = fetch): typeof fetch {
  const base = baseUrl.replace(/\/+$/, '');
  return ((input: string | URL | Request, init?: RequestInit) => {
    if (input instanceof Request) {
      const url = input.url.replace(YAHOO_API_HOSTS, base);
      return inner(url === input.url ? input : new Request(url, input), init);
    }
    return inner(String(input).replace(YAHOO_API_HOSTS, base), init);
  }) as typeof fetch;
}

function boundedFetch(ms: number, inner: typeof fetch): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    inner(input, {
      ...init,
      signal: init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms),
    })) as typeof fetch;
}

const silent = { info() {}, warn() {}, error() {}, debug() {}, dir() {} };

/** The real yahoo-finance2 client, optionally pointed at another host or given another fetch. */
export function yahooClient(options: YahooClientOptions = {}): InstanceType<typeof YahooFinance> {
  let f = options.fetch ?? fetch;
  if (options.baseUrl) f = rewritingFetch(options.baseUrl, f);
  if (options.timeoutMs) f = boundedFetch(options.timeoutMs, f);
  return new YahooFinance({
    suppressNotices: ['yahooSurvey'],
    versionCheck: false,
    fetch: f,
    ...(options.quiet ? { logger: silent } : {}),
  } as ConstructorParameters<typeof YahooFinance>[0]);
}
