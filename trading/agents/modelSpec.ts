import type { STRATEGY_NAMES } from './strategies.js';

// What a configured model is, as the agents read it: config/models.ts parses the config into these.

export interface StrategyModel {
  id: string;
  kind: 'strategy';
  strategy: (typeof STRATEGY_NAMES)[number];
  params: { lookback?: number; top?: number; entryZ?: number; decisionDelayMs?: number };
  initialCash: number;
}

export interface LlmModel {
  id: string;
  kind: 'llm';
  model: string;
  baseUrl: string;
  apiKeyEnv?: string;
  /** Only from AI-Trader configs, which may carry the key inline. */
  inlineApiKey?: string;
  maxSteps: number;
  timeoutMs: number;
  temperature?: number;
  pricing?: { promptPerMillion: number; completionPerMillion: number };
  initialCash: number;
}

export type ModelSpec = StrategyModel | LlmModel;

/** The key an LLM model uses, from the environment variable its config names (or AI-Trader's inline key). */
export function apiKeyFor(model: LlmModel, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = model.apiKeyEnv ? env[model.apiKeyEnv] : undefined;
  // Local servers such as Ollama accept any key; the client library insists on a non-empty one.
  return fromEnv ?? model.inlineApiKey ?? 'not-needed';
}
