import { LlmAgent } from './llmAgent.js';
import { apiKeyFor, type ModelSpec } from './modelSpec.js';
import { StrategyAgent } from './strategies.js';
import type { TradingAgent } from './types.js';

export type AgentFactory = (spec: ModelSpec) => TradingAgent;

export function createAgentFactory(env: NodeJS.ProcessEnv = process.env): AgentFactory {
  return (spec) =>
    spec.kind === 'strategy'
      ? new StrategyAgent(spec.strategy, spec.params)
      : new LlmAgent({
          model: spec.model,
          baseUrl: spec.baseUrl,
          apiKey: apiKeyFor(spec, env),
          maxSteps: spec.maxSteps,
          timeoutMs: spec.timeoutMs,
          ...(spec.temperature !== undefined ? { temperature: spec.temperature } : {}),
        });
}
