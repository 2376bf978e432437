import { Context } from '@temporalio/activity';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { ModelRegistry } from '../../config/models.js';
import { jobFailure } from '../../jobs/failures.js';
import type { JobDoc } from '../../jobs/records.js';
import { apiKeyFor } from '../../trading/agents/modelSpec.js';
import {
  type ChatActivities,
  type ChatAnswer,
  type ChatAnswerInput,
  type ChatGrounding,
  DETERMINISTIC_CHAT_MODEL,
} from '../../workflows/chat/contract.js';
import { type AnswerFacts, chunksOf, historyMessages, systemPrompt, templatedAnswer } from './answer.js';
import { ChatChunks } from './chunks.js';
import { analysedCompanies, analysisFacts, latestAnalysis, type PriceReader, recentPrices } from './grounding.js';
import { askTicker, type LlmChat, streamCompletion } from './llm.js';
import { findTicker, lastTicker, symbolBook } from './tickers.js';

export interface ChatActivityDeps {
  /** The jobs collection (analyses are read from it) and the chunk collection live here. */
  db: Pick<Db, 'collection'>;
  /** The worker's bar cache (or any reader of daily bars). */
  prices: PriceReader;
  /** The market source's name (`synthetic-…` answers say their prices are not the market's). */
  priceSource?: string;
  /** Symbols with market data, for the symbol search; analysed tickers and the built-in names count anyway. */
  knownSymbols?: () => Promise<string[]>;
  models: ModelRegistry;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

/** The delay between the templated answer's chunks: long enough that a stream shows it being written. */
const TEMPLATE_CHUNK_MS = 15;

export function createChatActivities(deps: ChatActivityDeps): ChatActivities {
  const jobs = deps.db.collection<JobDoc>('jobs');
  const chunks = new ChatChunks(deps.db);

  /** The LLM a message names, or null for the deterministic model; refused (not retried) when it is not one. */
  const llmFor = (name: string, signal: AbortSignal): LlmChat | null => {
    if (name === DETERMINISTIC_CHAT_MODEL) return null;
    const model = deps.models.get(name);
    if (model?.kind !== 'llm') throw jobFailure('UnknownModel', `model ${name} is not a configured LLM model`);
    return { model, apiKey: apiKeyFor(model, deps.env ?? process.env), signal };
  };

  async function answerChatMessage(input: ChatAnswerInput): Promise<ChatAnswer> {
    const ctx = Context.current();
    const attempt = ctx.info.attempt;
    const llm = llmFor(input.model, ctx.cancellationSignal);
    let text = '';
    let current = true;
    const publish = async (delta: string, done = false) => {
      text += delta;
      ctx.heartbeat();
      // A later attempt has taken the message over: this one (a worker presumed dead) stops here.
      if (current) current = await chunks.write(input.streamKey, input.sessionId, attempt, text, done);
      if (!current) throw new Error(`attempt ${attempt} of message ${input.streamKey} was superseded`);
    };
    await publish('');

    const [symbols, companies] = await Promise.all([
      deps.knownSymbols?.().catch(() => []) ?? Promise.resolve([]),
      analysedCompanies(jobs, input.owner),
    ]);
    const book = symbolBook(symbols, companies);
    let ticker = findTicker(input.message, book)?.ticker ?? null;
    let tickerFrom: AnswerFacts['tickerFrom'] = ticker ? 'message' : null;
    if (!ticker && llm) {
      ticker = await askTicker(llm, input.message);
      if (ticker) tickerFrom = 'message';
    }
    if (!ticker) {
      ticker = lastTicker(input.history);
      if (ticker) tickerFrom = 'conversation';
    }

    const grounded: ChatGrounding = { analysis: null, prices: null };
    if (ticker) {
      const t = ticker;
      const [job, prices] = await Promise.all([
        latestAnalysis(jobs, input.owner, t),
        // Prices that cannot be had (a live source down) leave the answer grounded in the analysis alone.
        recentPrices(deps.prices, t, deps.priceSource ?? null).catch((err: Error) => {
          deps.logger.warn({ ticker: t, err: err.message }, 'chat: no recent prices');
          return null;
        }),
      ]);
      grounded.analysis = analysisFacts(job);
      grounded.prices = prices;
    }
    const facts: AnswerFacts = {
      message: input.message,
      ticker,
      tickerFrom,
      grounded,
      analysed: companies.map(([, t]) => t),
    };

    let answer: string;
    if (llm) {
      answer = await streamCompletion(
        llm,
        [
          { role: 'system', content: systemPrompt(facts) },
          ...historyMessages(input.history),
          { role: 'user', content: input.message },
        ],
        (delta) => publish(delta),
      );
    } else {
      answer = templatedAnswer(facts);
      for (const piece of chunksOf(answer)) {
        await publish(piece);
        await new Promise((r) => setTimeout(r, TEMPLATE_CHUNK_MS));
      }
      answer = text;
    }
    await publish('', true);
    return {
      answer,
      ticker,
      grounded_in: grounded,
      model: input.model,
      answeredAt: new Date().toISOString(),
    };
  }

  return { answerChatMessage };
}
