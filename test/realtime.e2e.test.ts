import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marketFeedWorkflowId } from '../workflows/realtime/marketFeed.js';
import { type Harness, STRATEGY_MODELS, startHarness } from './harness.js';
import { DAILY_H2 } from './paths.js';
import { openSocket, type TestSocket } from './support/wsClient.js';

const NEWS = join(tmpdir(), `tradeflow-realtime-news-${process.pid}.jsonl`);

function closes(symbol: string): Record<string, number> {
  const line = readFileSync(DAILY_H2, 'utf8')
    .split('\n')
    .find((l) => l.includes(`"2. Symbol": "${symbol}"`))!;
  const daily = JSON.parse(line)['Time Series (Daily)'] as Record<string, Record<string, string>>;
  return Object.fromEntries(Object.entries(daily).map(([d, v]) => [d, Number(v['4. close'] ?? v['4. sell price'])]));
}

let h: Harness;
const sockets: TestSocket[] = [];
async function open(base: string, path: string, headers: Record<string, string> = h.authHeaders) {
  const s = await openSocket(`${base}${path}`, headers);
  sockets.push(s);
  return s;
}

beforeAll(async () => {
  writeFileSync(
    NEWS,
    [
      {
        id: 'n1',
        title: 'Apple one',
        url: 'https://news.example/a',
        published_at: '2025-10-01T10:00:00Z',
        symbols: ['AAPL'],
      },
      // The same story under another id: its URL makes it a repeat.
      {
        id: 'n2',
        title: 'Apple one again',
        url: 'https://NEWS.example/a',
        published_at: '2025-10-02T10:00:00Z',
        symbols: ['AAPL'],
      },
      {
        id: 'n3',
        title: 'Apple three',
        url: 'https://news.example/c',
        published_at: '2025-10-03T10:00:00Z',
        symbols: ['AAPL'],
      },
      { id: 'n4', title: 'undated', url: 'https://news.example/d', symbols: ['AAPL'] },
    ]
      .map((x) => JSON.stringify(x))
      .join('\n'),
  );
  h = await startHarness({
    models: STRATEGY_MODELS,
    env: {
      NEWS_FILES: NEWS,
      REALTIME_PRICE_POLL_MS: '200',
      REALTIME_NEWS_POLL_MS: '200',
      REALTIME_WINDOW_MS: '2000',
      REALTIME_IDLE_MS: '2000',
      REALTIME_INTEREST_MS: '500',
      REALTIME_TAIL_MS: '100',
      REALTIME_MAX_CONNECTIONS_PER_USER: '6',
    },
  });
});
afterAll(async () => {
  for (const s of sockets) await s.close().catch(() => undefined);
  await h?.stop();
});

describe('the price hub (/api/realtime/ws)', () => {
  it('refuses an upgrade without a key, from another site, or past the per-user cap; a plain GET is told to upgrade', async () => {
    await expect(openSocket(`${h.baseUrl}/api/realtime/ws`)).rejects.toMatchObject({ status: 401 });
    await expect(
      openSocket(`${h.baseUrl}/api/realtime/ws`, { ...h.authHeaders, origin: 'https://evil.example' }),
    ).rejects.toMatchObject({ status: 403 });
    const own = await open(h.baseUrl, '/api/realtime/ws', { ...h.authHeaders, origin: h.baseUrl });
    await own.close();
    const plain = await h.api('/api/realtime/ws');
    expect(plain.status).toBe(426);
    expect(plain.body.error).toBe('upgrade_required');
    const user = await h.createUser('sockets@example.com', ['read']);
    const mine = await Promise.all(
      Array.from({ length: 6 }, () => openSocket(`${h.baseUrl}/api/news/ws`, { authorization: `Bearer ${user.key}` })),
    );
    sockets.push(...mine);
    await expect(
      openSocket(`${h.baseUrl}/api/realtime/ws`, { authorization: `Bearer ${user.key}` }),
    ).rejects.toMatchObject({ status: 429 });
    await Promise.all(mine.map((s) => s.close()));
  });

  it('streams replayed closes of the file, each saying what it replays; ping, health and bad messages', async () => {
    const s = await open(h.baseUrl, '/api/realtime/ws');
    s.send({ type: 'subscribe', symbols: ['aapl'] });
    await s.next((m) => m.type === 'subscribed');
    const first = await s.next((m) => m.type === 'price');
    const from = s.messages.indexOf(first) + 1;
    const second = await s.next((m) => m.type === 'price', 15_000, from);
    const aapl = closes('AAPL');
    for (const tick of [first, second]) {
      expect(tick.symbol).toBe('AAPL');
      expect(tick.data).toMatchObject({ symbol: 'AAPL', source: 'replay:files', synthetic: false });
      expect(tick.data.price).toBe(aapl[tick.data.replay_of]);
    }
    expect(second.data.replay_of).not.toBe(first.data.replay_of);

    s.send({ type: 'ping', id: 7 });
    expect(await s.next((m) => m.type === 'pong')).toMatchObject({ id: 7 });
    s.send({ type: 'health' });
    expect(await s.next((m) => m.type === 'health')).toMatchObject({ state: 'ok', channel: 'price', yours: ['AAPL'] });

    s.send('{not json');
    expect(await s.next((m) => m.type === 'error')).toMatchObject({ code: 'invalid_json' });
    const n = s.messages.length;
    s.send({ type: 'subscribe', symbols: ['AAPL', 'ZZZZ'] });
    expect(await s.next((m) => m.type === 'error', 5_000, n)).toMatchObject({
      code: 'unknown_symbol',
      symbols: ['ZZZZ'],
    });
    s.send({ type: 'subscribe', symbols: ['../etc'] });
    expect(await s.next((m) => m.code === 'invalid_symbol', 5_000, n)).toBeTruthy();
    s.send({ type: 'teleport' });
    expect(await s.next((m) => m.code === 'unknown_type', 5_000, n)).toBeTruthy();
    s.send({ type: 'subscribe', symbols: ['__proto__'] });
    expect(await s.next((m) => m.code === 'invalid_symbol' && m.symbols?.[0] === '__proto__', 5_000, n)).toBeTruthy();

    s.send({ type: 'unsubscribe', symbols: ['AAPL'] });
    await s.next((m) => m.type === 'unsubscribed');
    const after = s.messages.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(s.messages.slice(after).filter((m) => m.type === 'price')).toEqual([]);
    await s.close();
  });

  it('two API instances serve their subscribers from one poller, which ends when nobody listens', async () => {
    const other = await h.anotherServer();
    const a = await open(h.baseUrl, '/api/realtime/ws');
    const b = await open(other.baseUrl, '/api/realtime/ws');
    a.send({ type: 'subscribe', symbols: ['MSFT'] });
    b.send({ type: 'subscribe', symbols: ['MSFT'] });
    // Both see the same ticks: the same poll, published once, read by each instance.
    const seenByA = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const m = await a.next((x) => x.type === 'price' && !seenByA.has(x.published_at));
      seenByA.add(m.published_at);
    }
    const last = [...seenByA].at(-1)!;
    await b.next((x) => x.type === 'price' && x.published_at === last);
    const running = [];
    for await (const wf of h.temporal.workflow.list({
      query: `WorkflowId = '${marketFeedWorkflowId('price', 'MSFT')}' AND ExecutionStatus = 'Running'`,
    })) {
      running.push(wf.runId);
    }
    expect(running).toHaveLength(1);
    expect(h.deps.realtime!.price.subscriberCount).toBeGreaterThanOrEqual(1);
    expect(other.deps.realtime!.price.subscriberCount).toBe(1);

    await a.close();
    await b.close();
    await other.close();
    // Nobody listens: the poller ends after its idle time (2 s here) and the window it is in.
    const handle = h.temporal.workflow.getHandle(marketFeedWorkflowId('price', 'MSFT'));
    await expect(handle.result()).resolves.toBeDefined();
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });
});

describe('the news hub (/api/news/ws)', () => {
  it('sends each story once (by id or URL), drops undated ones, and gives a late subscriber the latest at once', async () => {
    const s = await open(h.baseUrl, '/api/news/ws');
    s.send({ type: 'subscribe', tickers: ['AAPL'] });
    await s.next((m) => m.type === 'news' && m.data.id === 'n3', 20_000);
    // The replay has nothing more: one more poll window shows nothing else arrives.
    await new Promise((r) => setTimeout(r, 1_000));
    const stories = s.messages.filter((m) => m.type === 'news').map((m) => m.data.id);
    expect(stories).toEqual(['n1', 'n3']);

    const late = await open(h.baseUrl, '/api/news/ws');
    late.send({ type: 'subscribe', symbols: ['AAPL'] });
    await late.next((m) => m.type === 'news' && m.data.id === 'n3', 5_000);
    expect(late.messages.filter((m) => m.type === 'news').map((m) => m.data.id)).toEqual(['n1', 'n3']);
  });
});
