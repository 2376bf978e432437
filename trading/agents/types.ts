import type { IsoDate } from '../calendar.js';
import type { MarketView } from '../marketView.js';
import type { NewsItem } from '../news.js';
import type { TradingDesk } from '../tradingDesk.js';

export interface ReasoningStep {
  step: number;
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tool?: string;
  arguments?: unknown;
}

export interface TokenUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export const NO_TOKENS: TokenUsage = { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 };

export interface AgentContext {
  date: IsoDate;
  symbols: readonly string[];
  view: MarketView;
  desk: TradingDesk;
  /**
   * News about a symbol published before this decision (trading/news.ts: newsVisibleAt), when a news
   * source is configured: an item dated after the decision is never among them.
   */
  news?: (symbol: string) => Promise<NewsItem[]>;
  /** Aborted when the job is stopped or the activity is cancelled. */
  signal: AbortSignal;
  /** Tells Temporal the agent is alive; long agents call it between steps. */
  heartbeat(details?: unknown): void;
}

export interface AgentRun {
  steps: ReasoningStep[];
  tokenUsage: TokenUsage;
  /** One line on what the agent did, for `detail=minimal` results. */
  summary: string;
  /** True when the agent ended by itself (finish signal), false when it hit its step limit. */
  finished: boolean;
}

export interface TradingAgent {
  run(ctx: AgentContext): Promise<AgentRun>;
}

/** Raised for agent failures that retrying cannot fix (bad configuration, rejected credentials). */
export class AgentConfigurationError extends Error {
  override name = 'AgentConfigurationError';
}

/** Raised when the model provider is overloaded or timing out: worth retrying later. */
export class LlmUnavailableError extends Error {
  override name = 'LlmUnavailableError';
}
