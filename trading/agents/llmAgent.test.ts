import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi } from '../../test/fakeOpenAi.js';
import type { Bar } from '../bars.js';
import { MarketView } from '../marketView.js';
import { toUnits } from '../money.js';
import { decisionTimeOf, NewsFileSource, newsVisibleAt } from '../news.js';
import { Portfolio } from '../portfolio.js';
import { TradingDesk } from '../tradingDesk.js';
import { FINISH_SIGNAL, LlmAgent } from './llmAgent.js';
import { AgentConfigurationError, LlmUnavailableError } from './types.js';

const bars: Bar[] = [
  { date: '2025-03-03', open: 100, high: 101, low: 99, close: 100.5, volume: 1 },
  { date: '2025-03-04', open: 101, high: 103, low: 100, close: 102.25, volume: 1 },
  { date: '2025-03-05', open: 102, high: 110, low: 101, close: 109.75, volume: 1 },
];

function context(signal = new AbortController().signal) {
  const view = new MarketView('2025-03-05', new Map([['AAPL', bars]]));
  const desk = new TradingDesk(view, new Portfolio({ cash: toUnits(1000), holdings: {} }));
  return { date: '2025-03-05', symbols: ['AAPL'], view, desk, signal, heartbeat: () => {} };
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const agentFor = (baseUrl: string, maxSteps = 5) =>
  new LlmAgent({ model: 'test-model', baseUrl, apiKey: 'k', maxSteps, timeoutMs: 5000 });

type ToolCall = { name: string; arguments: unknown };
/** A model that makes these tool calls on its first turn, then answers `final`. */
const toolsThenFinish =
  (
    toolCalls: ToolCall[],
    final: { content: string; usage?: { prompt: number; completion: number } } = { content: FINISH_SIGNAL },
  ) =>
  (_req: unknown, n: number) =>
    n === 1 ? { toolCalls } : final;

describe('LlmAgent over an OpenAI-compatible API', () => {
  it('trades through tool calls, records tokens, and stops at the finish signal', async () => {
    const llm = await startFakeOpenAi(
      toolsThenFinish(
        [
          { name: 'get_price', arguments: { symbol: 'AAPL', date: '2025-03-04' } },
          { name: 'buy', arguments: { symbol: 'aapl', quantity: 5 } },
        ],
        { content: `Bought 5 AAPL on momentum. ${FINISH_SIGNAL}`, usage: { prompt: 300, completion: 40 } },
      ),
    );
    close = llm.close;
    const ctx = context();
    const run = await agentFor(llm.baseUrl).run(ctx);
    expect(run.finished).toBe(true);
    expect(run.summary).toBe('Bought 5 AAPL on momentum.');
    expect(run.tokenUsage).toEqual({ calls: 2, promptTokens: 400, completionTokens: 60, totalTokens: 460 });
    expect(ctx.desk.portfolio.snapshot()).toEqual({ cash: toUnits(1000 - 5 * 102), holdings: { AAPL: 5 } });
    expect(ctx.desk.toolUsage).toEqual({ get_price: 1, buy: 1 });
    // The second request carries the tool results back to the model.
    const toolMessages = llm.requests[1]!.messages.filter((m) => m.role === 'tool');
    expect(JSON.parse(toolMessages[0]!.content!)).toMatchObject({ date: '2025-03-04', close: 102.25 });
    expect(llm.requests[0]!.messages[0]!.content).toContain('Today is 2025-03-05');
  });

  it('reads news through get_news, only what was published before its decision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-news-'));
    const file = join(dir, 'news.jsonl');
    writeFileSync(
      file,
      [
        { id: '1', title: 'AAPL beats estimates', published_at: '2025-03-04T21:05:00Z', symbols: ['AAPL'] },
        { id: '2', title: 'AAPL falls after the open', published_at: '2025-03-05T15:00:00Z', symbols: ['AAPL'] },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    const llm = await startFakeOpenAi(toolsThenFinish([{ name: 'get_news', arguments: { symbol: 'AAPL' } }]));
    close = llm.close;
    const source = new NewsFileSource([file]);
    const ctx = { ...context(), news: (s: string) => newsVisibleAt(source, [s], decisionTimeOf('2025-03-05')) };
    await agentFor(llm.baseUrl).run(ctx);
    expect(llm.requests[0]!.tools?.map((t) => (t as { function: { name: string } }).function.name)).toContain(
      'get_news',
    );
    const [answer] = llm.requests[1]!.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content!));
    expect(answer).toEqual([{ title: 'AAPL beats estimates', published_at: '2025-03-04T21:05:00.000Z' }]);
    expect(JSON.stringify(llm.requests)).not.toContain('falls after the open');
    // Without a news source the tool is not offered.
    const plain = await startFakeOpenAi(toolsThenFinish([]));
    await agentFor(plain.baseUrl).run(context());
    expect(plain.requests[0]!.tools?.map((t) => (t as { function: { name: string } }).function.name)).not.toContain(
      'get_news',
    );
    await plain.close();
  });

  it("never shows the model today's close or any later day, whatever it asks", async () => {
    const llm = await startFakeOpenAi(
      toolsThenFinish([
        { name: 'get_price', arguments: { symbol: 'AAPL', date: '2025-03-05' } },
        { name: 'get_price', arguments: { symbol: 'AAPL', date: '2025-03-06' } },
      ]),
    );
    close = llm.close;
    await agentFor(llm.baseUrl).run(context());
    const all = JSON.stringify(llm.requests);
    expect(all).not.toContain('109.75');
    const tools = llm.requests[1]!.messages.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content!));
    expect(tools[0]).toEqual({ date: '2025-03-05', open: 102 });
    expect(tools[1].error).toMatch(/not available on 2025-03-05/);
  });

  it('tells the model why an order was refused', async () => {
    const llm = await startFakeOpenAi(toolsThenFinish([{ name: 'buy', arguments: { symbol: 'AAPL', quantity: 100 } }]));
    close = llm.close;
    await agentFor(llm.baseUrl).run(context());
    const tool = JSON.parse(llm.requests[1]!.messages.find((m) => m.role === 'tool')!.content!);
    expect(tool.error).toMatch(/insufficient cash/);
  });

  it('stops at its step limit', async () => {
    const llm = await startFakeOpenAi(() => ({
      toolCalls: [{ name: 'get_price', arguments: { symbol: 'AAPL', date: '2025-03-03' } }],
    }));
    close = llm.close;
    const run = await agentFor(llm.baseUrl, 3).run(context());
    expect(run.finished).toBe(false);
    expect(llm.requests).toHaveLength(3);
  });

  it('maps provider errors: overload and 5xx are retryable, rejected requests are not', async () => {
    const statuses = [429, 503, 401, 400];
    const llm = await startFakeOpenAi((_req, n) => ({
      status: statuses[n - 1]!,
      body: { error: { message: `status ${statuses[n - 1]}` } },
    }));
    close = llm.close;
    const agent = agentFor(llm.baseUrl);
    await expect(agent.run(context())).rejects.toBeInstanceOf(LlmUnavailableError);
    await expect(agent.run(context())).rejects.toBeInstanceOf(LlmUnavailableError);
    await expect(agent.run(context())).rejects.toBeInstanceOf(AgentConfigurationError);
    await expect(agent.run(context())).rejects.toThrow(/rejected the request with 400/);
  });

  it('treats an unreachable provider as retryable', async () => {
    const llm = await startFakeOpenAi(() => ({ content: FINISH_SIGNAL }));
    await llm.close();
    await expect(agentFor(llm.baseUrl).run(context())).rejects.toBeInstanceOf(LlmUnavailableError);
  });
});
