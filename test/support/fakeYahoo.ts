// A Yahoo-shaped chart API for tests: the real yahoo-finance2 client is pointed at it (TRADEFLOW_YAHOO_URL
// or YahooSource's `baseUrl`), so the requests and responses are the ones the client makes and reads.
// yahoo-finance2 4.x asks `chart` for no cookie or crumb (only the quote-style modules do), so the chart
// route is all there is.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../paths.js';

/** One answer, in the shape of yahoo-finance2's recorded fixtures. */
export interface YahooFixture {
  request: { url: string; method: string };
  response: { status: number; statusText: string; headers: Record<string, string>; bodyJson?: unknown; body?: string };
}

export const YAHOO_FIXTURES_DIR = join(PROJECT_ROOT, 'test/fixtures/yahoo');

const chartSymbol = (url: string) => {
  const m = /\/v8\/finance\/chart\/([^/?]+)/.exec(url);
  return m ? decodeURIComponent(m[1]!) : undefined;
};

/** The chart fixtures by the symbol their request asks for. */
export function loadYahooFixtures(dir = YAHOO_FIXTURES_DIR): Map<string, YahooFixture> {
  const out = new Map<string, YahooFixture>();
  for (const name of readdirSync(dir).filter((n) => n.startsWith('chart-') && n.endsWith('.json'))) {
    const fixture = JSON.parse(readFileSync(join(dir, name), 'utf8')) as YahooFixture;
    const symbol = chartSymbol(fixture.request.url);
    if (!symbol) throw new Error(`${name}: not a chart request`);
    out.set(symbol, fixture);
  }
  return out;
}

/** Yahoo's answer for a symbol it has never heard of. */
const NOT_FOUND: YahooFixture['response'] = {
  status: 404,
  statusText: 'Not Found',
  headers: { 'content-type': 'application/json;charset=utf-8' },
  bodyJson: {
    chart: { result: null, error: { code: 'Not Found', description: 'No data found, symbol may be delisted' } },
  },
};

/** What the fake answers `path` (with its query): a chart fixture, Yahoo's 404, or a plain 404 off the API. */
export function fakeYahooAnswer(
  fixtures: ReadonlyMap<string, YahooFixture>,
  path: string,
): { status: number; headers: Record<string, string>; body: string } {
  const symbol = chartSymbol(path);
  if (!symbol) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };
  const r = fixtures.get(symbol)?.response ?? NOT_FOUND;
  return { status: r.status, headers: r.headers, body: r.body ?? JSON.stringify(r.bodyJson) };
}

/**
 * The same answers without a server, as a `fetch` (for unit tests, which start nothing): every request
 * is answered from the fixtures whatever its host, and recorded.
 */
export function fixtureFetch(fixtures = loadYahooFixtures(), requests: string[] = []): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    requests.push(`${url.pathname}${url.search}`);
    const a = fakeYahooAnswer(fixtures, `${url.pathname}${url.search}`);
    return new Response(a.body, { status: a.status, headers: a.headers });
  }) as typeof fetch;
}

export interface FakeYahoo {
  /** The base URL that takes the place of https://query2.finance.yahoo.com. */
  url: string;
  /** Paths with their query strings, in the order asked. */
  requests: string[];
  close(): Promise<void>;
}

/** A node:http server on loopback that answers chart requests from the fixtures. */
export async function startFakeYahoo(fixtures = loadYahooFixtures()): Promise<FakeYahoo> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const a = req.method === 'GET' ? fakeYahooAnswer(fixtures, req.url ?? '') : undefined;
    if (!a) return res.writeHead(405).end();
    res.writeHead(a.status, a.headers).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
