import OpenAI from 'openai';
import type {
  ChatCompletionFunctionTool,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions/completions.js';
import { classifyProviderError } from '../../jobs/providerErrors.js';
import { isBarKey } from '../barTime.js';
import { describeCosts, hasCosts } from '../costs.js';
import { LookAheadError } from '../marketView.js';
import type { AgentContext, AgentRun, ReasoningStep, TokenUsage, TradingAgent } from './types.js';
import { AgentConfigurationError, LlmUnavailableError, NO_TOKENS } from './types.js';

/** The agent ends its day by saying this, as AI-Trader's agents do. */
export const FINISH_SIGNAL = '<FINISH_SIGNAL>';

export interface LlmAgentConfig {
  /** The provider's model name, e.g. `gpt-4o-mini` or `qwen2.5:7b`. */
  model: string;
  baseUrl: string;
  apiKey: string;
  maxSteps: number;
  timeoutMs: number;
  temperature?: number;
}

const tools: ChatCompletionFunctionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_price',
      description:
        'Daily bar of a symbol on a date. Dates before today give open/high/low/close/volume; today gives only the open; later dates are refused.',
      parameters: {
        type: 'object',
        properties: { symbol: { type: 'string' }, date: { type: 'string', description: 'YYYY-MM-DD' } },
        required: ['symbol', 'date'],
      },
    },
  },
  ...(['buy', 'sell'] as const).map(
    (name): ChatCompletionFunctionTool => ({
      type: 'function',
      function: {
        name,
        description: `${name === 'buy' ? 'Buy' : 'Sell'} whole shares at today's open. Refused with a reason when ${name === 'buy' ? 'cash' : 'shares'} are short.`,
        parameters: {
          type: 'object',
          properties: { symbol: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
          required: ['symbol', 'quantity'],
        },
      },
    }),
  ),
];

export function systemPrompt(ctx: AgentContext): string {
  const pos = ctx.desk.position();
  const lines = ctx.symbols.map((s) => {
    const close = ctx.view.lastClose(s);
    const open = ctx.view.openToday(s);
    return `${s}: previous close ${close ?? 'n/a'}, today's open ${open ?? 'not trading'}`;
  });
  return [
    isBarKey(ctx.date)
      ? `You are a stock trading agent trading hourly bars. The current bar is ${ctx.date} (New York time). You trade long-only, in whole shares, at this bar's open price; get_price takes a bar as YYYY-MM-DDTHH:MM.`
      : `You are a stock trading agent. Today is ${ctx.date}. You trade long-only, in whole shares, at today's open price.`,
    `Cash: ${pos.cash}. Holdings: ${JSON.stringify(pos.holdings)}.`,
    'Prices:',
    ...lines,
    ...(ctx.desk.costs && hasCosts(ctx.desk.costs) ? [describeCosts(ctx.desk.costs)] : []),
    'Use the tools to look up prices and to buy or sell. You cannot see any data after today.',
    `When you are done for the day, reply with a short summary of your reasoning and ${FINISH_SIGNAL}.`,
  ].join('\n');
}

function addUsage(total: TokenUsage, usage: OpenAI.CompletionUsage | undefined): TokenUsage {
  return {
    calls: total.calls + 1,
    promptTokens: total.promptTokens + (usage?.prompt_tokens ?? 0),
    completionTokens: total.completionTokens + (usage?.completion_tokens ?? 0),
    totalTokens: total.totalTokens + (usage?.total_tokens ?? 0),
  };
}

/** Maps provider errors (jobs/providerErrors.ts) to what Temporal should do with them: retry later, or give up. */
export function classifyLlmError(err: unknown, model: string): Error {
  const c = classifyProviderError(err, model);
  if (c.kind === 'transient') return new LlmUnavailableError(c.message);
  if (c.kind === 'rejected') return new AgentConfigurationError(c.message);
  return err instanceof Error ? err : new Error(String(err));
}

const newsTool: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'get_news',
    description: 'News about a symbol published before now (the open, or this bar), newest first.',
    parameters: { type: 'object', properties: { symbol: { type: 'string' } }, required: ['symbol'] },
  },
};

async function runTool(ctx: AgentContext, name: string, rawArgs: string): Promise<string> {
  let args: Record<string, unknown>;
  try {
    args = JSON.parse(rawArgs || '{}') as Record<string, unknown>;
  } catch {
    return JSON.stringify({ error: `arguments are not JSON: ${rawArgs}` });
  }
  const symbol = String(args.symbol ?? '').toUpperCase();
  if (name === 'get_price') {
    ctx.desk.count('get_price');
    try {
      const bar = ctx.view.barOn(symbol, String(args.date ?? ''));
      return JSON.stringify(bar ?? { error: `no price for ${symbol} on ${String(args.date)}` });
    } catch (err) {
      const message = err instanceof LookAheadError || err instanceof RangeError ? err.message : String(err);
      return JSON.stringify({ error: message });
    }
  }
  if (name === 'get_news' && ctx.news) {
    ctx.desk.count('get_news');
    const items = await ctx.news(symbol);
    return JSON.stringify(
      items.map((n) => ({ title: n.title, published_at: n.publishedAt, source: n.source, summary: n.summary })),
    );
  }
  if (name === 'buy' || name === 'sell') {
    const quantity = Number(args.quantity ?? args.amount);
    const result = name === 'buy' ? ctx.desk.buy(symbol, quantity) : ctx.desk.sell(symbol, quantity);
    return JSON.stringify(result.ok ? result : { error: result.message, cash: result.cash, holdings: result.holdings });
  }
  ctx.desk.count(name);
  return JSON.stringify({ error: `unknown tool ${name}` });
}

/** An LLM that trades through tools over any OpenAI-compatible chat API (OpenAI, OpenRouter, Ollama, vLLM). */
export class LlmAgent implements TradingAgent {
  private readonly client: OpenAI;

  constructor(private readonly config: LlmAgentConfig) {
    // Temporal owns retries and their backoff; the client's own would hide failures inside one attempt.
    this.client = new OpenAI({
      apiKey: config.apiKey,
      baseURL: config.baseUrl,
      maxRetries: 0,
      timeout: config.timeoutMs,
    });
  }

  async run(ctx: AgentContext): Promise<AgentRun> {
    const steps: ReasoningStep[] = [];
    const prompt = systemPrompt(ctx);
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: prompt },
      { role: 'user', content: `Trade for ${ctx.date}.` },
    ];
    steps.push({ step: 0, role: 'system', content: prompt });
    let usage: TokenUsage = { ...NO_TOKENS };
    let summary = '';
    for (let step = 1; step <= this.config.maxSteps; step++) {
      ctx.heartbeat({ step });
      let completion: OpenAI.ChatCompletion;
      try {
        completion = await this.client.chat.completions.create(
          {
            model: this.config.model,
            messages,
            tools: ctx.news ? [...tools, newsTool] : tools,
            ...(this.config.temperature === undefined ? {} : { temperature: this.config.temperature }),
          },
          { signal: ctx.signal },
        );
      } catch (err) {
        throw classifyLlmError(err, this.config.model);
      }
      usage = addUsage(usage, completion.usage);
      const message = completion.choices[0]?.message;
      if (!message) throw new LlmUnavailableError(`${this.config.model}: empty completion`);
      const content = message.content ?? '';
      const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
      steps.push({
        step,
        role: 'assistant',
        content,
        ...(calls.length ? { arguments: calls.map((c) => c.function) } : {}),
      });
      messages.push({ role: 'assistant', content, ...(calls.length ? { tool_calls: calls } : {}) });
      for (const call of calls) {
        const result = await runTool(ctx, call.function.name, call.function.arguments);
        steps.push({
          step,
          role: 'tool',
          tool: call.function.name,
          arguments: call.function.arguments,
          content: result,
        });
        messages.push({ role: 'tool', tool_call_id: call.id, content: result });
      }
      if (content) summary = content.replace(FINISH_SIGNAL, '').trim();
      if (content.includes(FINISH_SIGNAL) || calls.length === 0) {
        return { steps, tokenUsage: usage, summary, finished: true };
      }
    }
    const pos = ctx.desk.position();
    return {
      steps,
      tokenUsage: usage,
      summary: summary || `step limit ${this.config.maxSteps} reached with cash ${pos.cash}`,
      finished: false,
    };
  }
}
